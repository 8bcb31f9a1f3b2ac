/**
 * The template as CloudFormation would deploy it for some parameter values: conditions evaluated,
 * resources and outputs whose condition is false left out, `Fn::If` chosen, `AWS::NoValue` removed
 * and parameters referenced by `Ref` replaced by their value. Other intrinsics are kept as written.
 */
import type { Json } from './fixtures';

type Template = {
  Parameters?: Record<string, { Default?: string }>;
  Conditions?: Record<string, Json>;
  Resources: Record<string, Json>;
  Outputs?: Record<string, Json>;
};

const NO_VALUE = Symbol('AWS::NoValue');

export const deployedAs = <T extends Template>(template: T, values: Record<string, string> = {}): T => {
  const parameters: Record<string, string> = {};
  for (const [name, parameter] of Object.entries(template.Parameters ?? {})) {
    const value = values[name] ?? parameter.Default;
    if (value === undefined) throw new Error(`parameter ${name} has no value`);
    parameters[name] = value;
  }
  for (const name of Object.keys(values)) {
    if (!(name in parameters)) throw new Error(`the template has no parameter ${name}`);
  }
  const conditions = new Map<string, boolean>();
  const condition = (name: string): boolean => {
    const known = conditions.get(name);
    if (known !== undefined) return known;
    const expression = template.Conditions?.[name];
    if (expression === undefined) throw new Error(`no condition ${name}`);
    const result = truth(expression);
    conditions.set(name, result);
    return result;
  };
  const truth = (expression: Json): boolean => {
    if ('Fn::Equals' in expression) {
      const [a, b] = expression['Fn::Equals'].map(resolve);
      return JSON.stringify(a) === JSON.stringify(b);
    }
    if ('Fn::Not' in expression) return !truth(expression['Fn::Not'][0]);
    if ('Fn::And' in expression) return expression['Fn::And'].every(truth);
    if ('Fn::Or' in expression) return expression['Fn::Or'].some(truth);
    if ('Condition' in expression) return condition(expression.Condition);
    throw new Error(`unknown condition function ${JSON.stringify(expression)}`);
  };
  const resolve = (node: Json): Json | typeof NO_VALUE => {
    if (Array.isArray(node)) return node.map(resolve).filter((item) => item !== NO_VALUE);
    if (node === null || typeof node !== 'object') return node;
    const keys = Object.keys(node);
    if (keys.length === 1 && keys[0] === 'Ref') {
      if (node.Ref === 'AWS::NoValue') return NO_VALUE;
      if (node.Ref in parameters) return parameters[node.Ref];
      return node;
    }
    if (keys.length === 1 && keys[0] === 'Fn::If') {
      const [name, whenTrue, whenFalse] = node['Fn::If'];
      return resolve(condition(name) ? whenTrue : whenFalse);
    }
    const out: Json = {};
    for (const [key, value] of Object.entries(node)) {
      const resolved = resolve(value);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  };
  const kept = (entries: Record<string, Json>) =>
    Object.fromEntries(
      Object.entries(entries)
        .filter(([, entry]) => entry.Condition === undefined || condition(entry.Condition))
        .map(([id, entry]) => [id, resolve(entry)]),
    );
  return { ...template, Resources: kept(template.Resources), Outputs: kept(template.Outputs ?? {}) };
};

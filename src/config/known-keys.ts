import type * as z from '../zod';

type Def = z.core.$ZodTypeDef & {
  shape?: Record<string, z.core.$ZodType>;
  valueType?: z.core.$ZodType;
  element?: z.core.$ZodType;
  options?: z.core.$ZodType[];
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  values?: unknown[];
};

const defOf = (schema: z.core.$ZodType): Def => schema._zod.def as Def;

/** Through optional, default, prefault and the like to the schema that holds the shape. */
const unwrap = (schema: z.core.$ZodType): z.core.$ZodType => {
  const def = defOf(schema);
  if (def.innerType) return unwrap(def.innerType);
  if (def.type === 'pipe' && def.in) return unwrap(def.in);
  return schema;
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An object branch of a union fits the value unless one of its literal fields says otherwise. */
const fits = (schema: z.core.$ZodType, value: unknown): boolean => {
  const shape = defOf(schema).shape;
  if (!shape || !isObject(value)) return false;
  return Object.entries(shape).every(([key, field]) => {
    const literal = defOf(unwrap(field));
    return literal.type !== 'literal' || !(key in value) || (literal.values ?? []).includes(value[key]);
  });
};

/** The object schemas that may apply to `value`: one, or several for a union that cannot tell. */
const objectSchemas = (schema: z.core.$ZodType, value: unknown): z.core.$ZodType[] => {
  const inner = unwrap(schema);
  const def = defOf(inner);
  if (def.type === 'object') return [inner];
  if (def.type !== 'union') return [];
  const branches = (def.options ?? []).flatMap((option) => objectSchemas(option, value));
  const fitting = branches.filter((branch) => fits(branch, value));
  return fitting.length > 0 ? fitting : branches;
};

/** The schema of the value at `path` inside `value` (validated by `schema`), if the path leads anywhere. */
const schemasAt = (
  schema: z.core.$ZodType,
  value: unknown,
  path: readonly PropertyKey[],
): z.core.$ZodType[] => {
  if (path.length === 0) return [schema];
  const [segment, ...rest] = path;
  const inner = unwrap(schema);
  const def = defOf(inner);
  const child = (value as Record<PropertyKey, unknown> | undefined)?.[segment as string];
  if (def.type === 'record' && def.valueType) return schemasAt(def.valueType, child, rest);
  if (def.type === 'array' && def.element) return schemasAt(def.element, child, rest);
  return objectSchemas(inner, value).flatMap((object) => {
    const field = defOf(object).shape?.[String(segment)];
    return field ? schemasAt(field, child, rest) : [];
  });
};

/**
 * The keys a configuration may hold at `path` (an object inside the parsed `document`): what a
 * misspelt key there could have meant. Fields accepted only to be refused with a reason (their
 * schema takes any value) are left out.
 */
export const knownKeysAt = (
  schema: z.core.$ZodType,
  document: unknown,
  path: readonly PropertyKey[],
): string[] => {
  let value = document;
  for (const segment of path)
    value = (value as Record<PropertyKey, unknown> | undefined)?.[segment as string];
  const keys = schemasAt(schema, document, path)
    .flatMap((at) => objectSchemas(at, value))
    .flatMap((object) =>
      Object.entries(defOf(object).shape ?? {})
        .filter(([, field]) => defOf(unwrap(field)).type !== 'unknown')
        .map(([key]) => key),
    );
  return [...new Set(keys)];
};

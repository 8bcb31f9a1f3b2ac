import { validation } from './protocol';

/**
 * Constraints from the SageMaker API Reference (botocore sagemaker service-2.json): `ModelName`
 * (API_CreateModel.html: at most 63, `^[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?$`) and `Tag`
 * (API_Tag.html: key 1-128, value 0-256, both `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`; a TagList holds at most 50).
 */
const MODEL_NAME = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const TAG_TEXT = /^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$/u;
const MAX_TAGS = 50;

const violation = (value: string, field: string, constraint: string) =>
  validation(
    `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: ${constraint}`,
  );

export function checkModelName(name: string): void {
  if (name.length > 63)
    throw violation(name, 'modelName', 'Member must have length less than or equal to 63');
  if (!MODEL_NAME.test(name))
    throw violation(
      name,
      'modelName',
      `Member must satisfy regular expression pattern: ${MODEL_NAME.source}`,
    );
}

/** Validates a request's `Tags` (absent is fine) and returns them. */
export function checkTags(tags: unknown): Array<{ Key: string; Value: string }> {
  if (tags === undefined) return [];
  if (!Array.isArray(tags)) throw validation("1 validation error detected: 'tags' must be a list of tags");
  if (tags.length > MAX_TAGS)
    throw violation(
      `[${tags.length} tags]`,
      'tags',
      `Member must have length less than or equal to ${MAX_TAGS}`,
    );
  return tags.map((tag: { Key?: unknown; Value?: unknown }, i) => {
    const key = tag?.Key;
    const value = tag?.Value ?? '';
    if (typeof key !== 'string' || key.length < 1 || key.length > 128)
      throw violation(String(key), `tags.${i + 1}.member.key`, 'Member must have length between 1 and 128');
    if (typeof value !== 'string' || value.length > 256)
      throw violation(
        String(value),
        `tags.${i + 1}.member.value`,
        'Member must have length less than or equal to 256',
      );
    if (!TAG_TEXT.test(key))
      throw violation(
        key,
        `tags.${i + 1}.member.key`,
        `Member must satisfy regular expression pattern: ${TAG_TEXT.source}`,
      );
    if (!TAG_TEXT.test(value))
      throw violation(
        value,
        `tags.${i + 1}.member.value`,
        `Member must satisfy regular expression pattern: ${TAG_TEXT.source}`,
      );
    return { Key: key, Value: value };
  });
}

/**
 * A small JSON Schema checker for the subset the OpenAPI document uses (type, required, properties,
 * additionalProperties: false, items, enum, pattern, min/max length and value, format uri, $ref to
 * #/components/schemas): enough to hold real API replies against the document.
 */
type Schema = Record<string, any>;

export function validate(value: unknown, schema: Schema, root: Schema, path = '$'): string[] {
  if (schema.$ref) {
    const name = String(schema.$ref).replace('#/components/schemas/', '');
    const target = root.components?.schemas?.[name];
    if (!target) return [`${path}: unresolved $ref ${schema.$ref}`];
    return validate(value, target, root, path);
  }
  const problems: string[] = [];
  const type = schema.type as string | undefined;
  const is = {
    string: typeof value === 'string',
    integer: Number.isInteger(value),
    number: typeof value === 'number' && Number.isFinite(value),
    boolean: typeof value === 'boolean',
    array: Array.isArray(value),
    object: typeof value === 'object' && value !== null && !Array.isArray(value),
    null: value === null,
  } as Record<string, boolean>;
  if (type && !is[type]) return [`${path}: expected ${type}, got ${JSON.stringify(value)}`];
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${path}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`);
  if (typeof value === 'string') {
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) problems.push(`${path}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
    if (schema.minLength !== undefined && value.length < schema.minLength) problems.push(`${path}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) problems.push(`${path}: longer than ${schema.maxLength}`);
    if (schema.format === 'uri' && !URL.canParse(value)) problems.push(`${path}: not a URI`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) problems.push(`${path}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) problems.push(`${path}: above ${schema.maximum}`);
  }
  if (Array.isArray(value) && schema.items) value.forEach((item, i) => problems.push(...validate(item, schema.items, root, `${path}[${i}]`)));
  if (is.object && (schema.properties || schema.required)) {
    const object = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in object)) problems.push(`${path}: missing ${key}`);
    for (const [key, child] of Object.entries(object)) {
      const sub = schema.properties?.[key];
      if (sub) problems.push(...validate(child, sub, root, `${path}.${key}`));
      else if (schema.additionalProperties === false) problems.push(`${path}: unexpected property ${key}`);
    }
  }
  return problems;
}

/**
 * Checks one real reply against the OpenAPI document: its status is documented for the operation,
 * and a JSON body matches the documented schema. `path` is the document's path template.
 */
export function checkReply(doc: Schema, path: string, method: string, status: number, body: unknown): string[] {
  const operation = doc.paths?.[path]?.[method.toLowerCase()];
  if (!operation) return [`${method} ${path} is not in the document`];
  const response = operation.responses?.[String(status)];
  if (!response) return [`${method} ${path}: status ${status} is not documented`];
  const schema = response.content?.['application/json']?.schema;
  if (!schema) return body === undefined || body === '' ? [] : [`${method} ${path} ${status}: a body where none is documented`];
  return validate(body, schema, doc);
}

// A small JSON Schema check for the answers of structured output: the keywords the json_schema format uses
// (type, properties, required, additionalProperties, items, enum, const, anyOf, minimum/maximum, minItems/maxItems,
// minLength/maxLength, $ref to #/$defs or #/definitions). It explains; the server is what enforces.

function typeOf(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value, type) {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

function resolve(schema, root) {
  if (schema && typeof schema.$ref === 'string') {
    const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(schema.$ref);
    if (match) return root?.[match[1]]?.[match[2].replaceAll('~1', '/').replaceAll('~0', '~')] ?? {};
  }
  return schema;
}

/** The ways `value` breaks `schema`, as "path: problem" lines (empty when it conforms). */
export function validate(value, schema, root = schema, path = '$') {
  schema = resolve(schema, root);
  if (schema === true || schema === undefined || schema === null) return [];
  if (schema === false) return [`${path}: no value is allowed here`];
  const errors = [];
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some(t => matchesType(value, t))) errors.push(`${path}: expected ${types.join(' or ')}, got ${typeOf(value)}`);
  }
  if (schema.enum && !schema.enum.some(e => JSON.stringify(e) === JSON.stringify(value))) errors.push(`${path}: not one of ${JSON.stringify(schema.enum)}`);
  if ('const' in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) errors.push(`${path}: must be ${JSON.stringify(schema.const)}`);
  if (schema.anyOf && !schema.anyOf.some(s => validate(value, s, root, path).length === 0)) errors.push(`${path}: matches none of anyOf`);
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${path}: below minimum ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${path}: above maximum ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) errors.push(`${path}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && length > schema.maxLength) errors.push(`${path}: longer than ${schema.maxLength}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(`${path}: fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push(`${path}: more than ${schema.maxItems} items`);
    if (schema.items) value.forEach((item, i) => errors.push(...validate(item, schema.items, root, `${path}[${i}]`)));
  }
  if (typeOf(value) === 'object') {
    for (const name of schema.required ?? []) {
      if (!(name in value)) errors.push(`${path}: missing required property "${name}"`);
    }
    const properties = schema.properties ?? {};
    for (const [name, item] of Object.entries(value)) {
      if (name in properties) errors.push(...validate(item, properties[name], root, `${path}.${name}`));
      else if (schema.additionalProperties === false) errors.push(`${path}: unexpected property "${name}"`);
      else if (typeof schema.additionalProperties === 'object') errors.push(...validate(item, schema.additionalProperties, root, `${path}.${name}`));
    }
  }
  return errors;
}

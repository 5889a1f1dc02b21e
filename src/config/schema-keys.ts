import { z } from 'zod';
import type { KeyPath } from './key-path.js';
import { configSchema, fieldConditionSchema, whenSchema } from './schema.js';

type AnySchema = z.core.$ZodType;

/** The parts of zod's internal definitions that the walk reads. */
interface SchemaDef {
  type: string;
  shape?: Record<string, AnySchema>;
  innerType?: AnySchema;
  in?: AnySchema;
  getter?: () => AnySchema;
  element?: AnySchema;
  valueType?: AnySchema;
  options?: readonly AnySchema[];
}

const whenListSchema = z.array(whenSchema);

/**
 * Lists the keys the schema accepts in the mapping at `path`, for the message about an
 * unknown key. Returns an empty list when the path leads to no fixed set of keys.
 */
export function allowedKeys(path: KeyPath, root: AnySchema = configSchema): string[] {
  let schema: AnySchema | undefined = root;
  for (const segment of path) {
    schema = schema === undefined ? undefined : childSchema(schema, segment);
  }
  return schema === undefined ? [] : objectKeys(schema);
}

function definition(schema: AnySchema): SchemaDef {
  return schema._zod.def as unknown as SchemaDef;
}

/** Strips wrappers (default, optional, pipe, lazy) down to the schema that defines the shape. */
function unwrap(schema: AnySchema): AnySchema {
  let current = schema;
  for (let depth = 0; depth < 20; depth++) {
    const def = definition(current);
    const inner = def.innerType ?? def.in ?? def.getter?.();
    if (inner === undefined) return current;
    current = inner;
  }
  return current;
}

function childSchema(schema: AnySchema, segment: string | number): AnySchema | undefined {
  // A `when` block is a record checked by hand, so its keys are mapped here.
  if (schema === whenSchema) {
    if (segment === 'all' || segment === 'any') return whenListSchema;
    return segment === 'not' ? whenSchema : fieldConditionSchema;
  }
  const def = definition(unwrap(schema));
  if (def.type === 'object' && typeof segment === 'string') return def.shape?.[segment];
  if (def.type === 'array') return def.element;
  if (def.type === 'record') return def.valueType;
  if (def.type === 'union') {
    for (const option of def.options ?? []) {
      const child = childSchema(option, segment);
      if (child !== undefined) return child;
    }
  }
  return undefined;
}

function objectKeys(schema: AnySchema): string[] {
  const def = definition(unwrap(schema));
  if (def.type === 'object') return Object.keys(def.shape ?? {});
  if (def.type === 'union') return (def.options ?? []).flatMap(objectKeys);
  return [];
}

/**
 * Command arguments checked as QEMU's QAPI input visitor (qapi/qobject-input-visitor.c) checks
 * them, with its messages: members visited in schema order (a missing or mistyped member first),
 * then the object's unexpected members. Types are the few COLO's commands use.
 */

export type QapiType =
  | { readonly kind: 'str' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'int' }
  | { readonly kind: 'uint8' }
  | { readonly kind: 'uint32' }
  /** uint64, and size (the QMP input visitor reads a size as a uint64). */
  | { readonly kind: 'uint64' }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'struct'; readonly members: Readonly<Record<string, QapiMember>>; readonly open?: boolean }
  | { readonly kind: 'list'; readonly of: QapiType }
  /** Anything (a member colo-sim accepts and does not model). */
  | { readonly kind: 'any' };

export interface QapiMember {
  readonly type: QapiType;
  readonly optional?: boolean;
}

export const T = {
  str: { kind: 'str' } as QapiType,
  bool: { kind: 'bool' } as QapiType,
  int: { kind: 'int' } as QapiType,
  uint8: { kind: 'uint8' } as QapiType,
  uint32: { kind: 'uint32' } as QapiType,
  uint64: { kind: 'uint64' } as QapiType,
  any: { kind: 'any' } as QapiType,
  enumOf: (...values: string[]): QapiType => ({ kind: 'enum', values }),
  struct: (members: Record<string, QapiMember>, options: { open?: boolean } = {}): QapiType => ({ kind: 'struct', members, ...options }),
  list: (of: QapiType): QapiType => ({ kind: 'list', of }),
  required: (type: QapiType): QapiMember => ({ type }),
  optional: (type: QapiType): QapiMember => ({ type, optional: true }),
};

/** The arguments, or QEMU's message for the first thing wrong with them. */
export function checkArguments(schema: Readonly<Record<string, QapiMember>>, value: unknown, open = false): { ok: true } | { ok: false; message: string } {
  const problem = visitStruct(schema, value ?? {}, '', open);
  return problem === undefined ? { ok: true } : { ok: false, message: problem };
}

function visitStruct(members: Readonly<Record<string, QapiMember>>, value: unknown, path: string, open: boolean): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `Invalid parameter type for '${path || '<anonymous>'}', expected: object`;
  const record = value as Record<string, unknown>;
  for (const [name, member] of Object.entries(members)) {
    const fullName = path ? `${path}.${name}` : name;
    if (!(name in record)) {
      if (member.optional) continue;
      return `Parameter '${fullName}' is missing`;
    }
    const problem = visitValue(member.type, record[name], fullName, name);
    if (problem) return problem;
  }
  if (!open) {
    const unexpected = Object.keys(record).find((key) => !(key in members));
    if (unexpected !== undefined) return `Parameter '${path ? `${path}.${unexpected}` : unexpected}' is unexpected`;
  }
  return undefined;
}

function visitValue(type: QapiType, value: unknown, fullName: string, name: string): string | undefined {
  switch (type.kind) {
    case 'any':
      return undefined;
    case 'str':
      return typeof value === 'string' ? undefined : `Invalid parameter type for '${fullName}', expected: string`;
    case 'bool':
      return typeof value === 'boolean' ? undefined : `Invalid parameter type for '${fullName}', expected: boolean`;
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) ? undefined : `Invalid parameter type for '${fullName}', expected: integer`;
    case 'uint8':
    case 'uint32':
    case 'uint64': {
      // qobject_input_type_uint64 takes any integer (a negative one as its two's complement).
      if (!(typeof value === 'number' && Number.isInteger(value))) return `Parameter '${fullName}' expects uint64`;
      if (type.kind === 'uint64') return undefined;
      // visit_type_uintN then checks the range, naming the C type and the member without its path.
      const max = type.kind === 'uint8' ? 0xff : 0xffffffff;
      return value >= 0 && value <= max ? undefined : `Parameter '${name}' expects ${type.kind}_t`;
    }
    case 'enum':
      if (typeof value !== 'string') return `Invalid parameter type for '${fullName}', expected: string`;
      return type.values.includes(value) ? undefined : `Parameter '${name}' does not accept value '${value}'`;
    case 'struct':
      return visitStruct(type.members, value, fullName, type.open ?? false);
    case 'list': {
      if (!Array.isArray(value)) return `Invalid parameter type for '${fullName}', expected: array`;
      // The generated list visitors visit each element with a null name: messages that use the
      // name rather than the full path (an enum's value, a range) say 'null'.
      for (const [index, item] of value.entries()) {
        const problem = visitValue(type.of, item, `${fullName}[${index}]`, 'null');
        if (problem) return problem;
      }
      return undefined;
    }
  }
}

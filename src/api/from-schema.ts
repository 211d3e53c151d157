// A type-level reading of the OpenAPI v3 subset our CRD schemas use, so the TypeScript types are
// derived from the very objects that become crds/*.yaml: there is no second copy to drift.
//
// Supported: `type` string/integer/number/boolean/array/object, `enum`, `properties` + `required`,
// `additionalProperties`, `x-kubernetes-preserve-unknown-fields` (free-form object). Anything else
// maps to `unknown`, which the compiler then forces callers to narrow.

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type RequiredKeys<S> = S extends { required: readonly (infer R)[] } ? R : never;

type ObjectFromProperties<P, R> = Simplify<
  { -readonly [K in keyof P as K extends R ? K : never]: FromSchema<P[K]> } & {
    -readonly [K in keyof P as K extends R ? never : K]?: FromSchema<P[K]>;
  }
>;

export type FromSchema<S> = S extends { enum: readonly (infer E)[] }
  ? E
  : S extends { type: 'string' }
    ? string
    : S extends { type: 'integer' | 'number' }
      ? number
      : S extends { type: 'boolean' }
        ? boolean
        : S extends { type: 'array'; items: infer I }
          ? FromSchema<I>[]
          : S extends { type: 'object'; properties: infer P }
            ? ObjectFromProperties<P, RequiredKeys<S>>
            : S extends { type: 'object'; additionalProperties: infer A }
              ? Record<string, FromSchema<A>>
              : S extends { 'x-kubernetes-preserve-unknown-fields': true }
                ? Record<string, unknown>
                : unknown;

// Object keys: "namespace/name" for namespaced objects, "name" for cluster-scoped ones. The one
// place that builds and splits them.

export interface ObjectRef {
  namespace?: string | undefined;
  name: string;
}

export interface HasMetadata {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string } | undefined;
}

export function refKey(ref: ObjectRef): string {
  return ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name;
}

/** The key of an object; undefined if it has no name (never the case for stored objects). */
export function objectKey(obj: HasMetadata): string | undefined {
  const name = obj.metadata?.name;
  if (!name) return undefined;
  return refKey({ namespace: obj.metadata?.namespace, name });
}

export function splitKey(key: string): ObjectRef {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

// Queue keys and index keys for the rebound.dev objects, one spelling for every watch and lookup.
import { refKey } from '../runtime/keys.ts';

interface Named {
  metadata: { namespace?: string; name?: string };
}

/** `namespace/name`, the work queue's key. */
export function keyOf(obj: Named): string {
  return refKey({ namespace: obj.metadata.namespace, name: obj.metadata.name ?? '' });
}

/** `namespace/project`: what a Project, its Remediations and its ProblemEvents share. */
export function projectGroup(namespace: string | undefined, project: string): string {
  return `${namespace ?? ''}/${project}`;
}

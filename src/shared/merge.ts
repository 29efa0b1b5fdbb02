// The contract's schemas and the façade's handlers are each one map merged from the features' own maps
// (shared/<feature>/contract.ts, main/<feature>/…handlers.ts). A spread would keep the later of two
// features that name the same channel and silently drop the other; this refuses it when the module loads.

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void
  ? I
  : never;

/** The parts' entries in one object; throws on a channel two parts both define, naming it and both. */
export function mergeFeatures<P extends Record<string, object>>(parts: P): UnionToIntersection<P[keyof P]> {
  const merged: Record<string, unknown> = {};
  const owner = new Map<string, string>();
  for (const [feature, part] of Object.entries(parts))
    for (const [channel, value] of Object.entries(part)) {
      const first = owner.get(channel);
      if (first !== undefined)
        throw new Error(
          `Channel "${channel}" is defined by two features, "${first}" and "${feature}": give it one owner.`,
        );
      owner.set(channel, feature);
      merged[channel] = value;
    }
  return merged as UnionToIntersection<P[keyof P]>;
}

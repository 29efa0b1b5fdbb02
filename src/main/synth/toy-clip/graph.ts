// A little wrapper over the ONNX builder for writing the toy towers as straight-line code. Node names are
// taken from their outputs (the builder's default names come from a process-wide counter, which would
// make the bytes depend on what else was built first).
import { node, tensor, type AttrValue, type Node, type Tensor, type TensorArray } from '../../ml/onnx';

export class GraphWriter {
  readonly nodes: Node[] = [];
  readonly initializers: Tensor[] = [];

  /** Adds a constant; returns its name. */
  constant(name: string, data: TensorArray, dims: readonly number[]): string {
    this.initializers.push(tensor(name, data, dims));
    return name;
  }

  /** A float32 constant. */
  floats(name: string, values: ArrayLike<number>, dims: readonly number[]): string {
    return this.constant(name, Float32Array.from(values), dims);
  }

  /** An int64 constant (axes, shapes, slice bounds). */
  ints(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.constant(name, BigInt64Array.from(values, BigInt), dims);
  }

  /** Adds one node with a single output named `out`; returns `out`. */
  op(opType: string, inputs: readonly string[], out: string, attrs: Record<string, AttrValue> = {}): string {
    this.nodes.push(node(opType, inputs, [out], attrs, { name: out }));
    return out;
  }
}

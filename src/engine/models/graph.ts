// Runs a LayersModel layer by layer on concrete tensors, letting a hook replace any layer's
// computation: how approximate, quantised and noisy variants of a trained model are simulated
// without rebuilding it. Each layer is taken with its first inbound node (how the zoo and ordinary
// Keras-style models are built).
import * as tf from '@tensorflow/tfjs';

/** Returns the layer's output, or null to run the layer as it is. */
export type LayerHook = (layer: tf.layers.Layer, input: tf.Tensor) => tf.Tensor | null;

interface NodeLike {
  inboundLayers: tf.layers.Layer[];
  nodeIndices: number[];
  tensorIndices: number[];
}

/** `training` runs BatchNorm on batch statistics (updating its moving averages) and dropout on. */
export function runGraph(model: tf.LayersModel, x: tf.Tensor, hook: LayerHook = () => null, options: { training?: boolean } = {}): tf.Tensor {
  const kwargs = options.training ? { training: true } : {};
  // A Sequential wires its layers (input layer and inbound nodes) only when first built.
  if (model instanceof tf.Sequential && !model.built) model.build();
  return tf.tidy(() => {
    const outputs = new Map<string, tf.Tensor>();
    const inputNames = model.inputLayers.map((l) => l.name);
    if (inputNames.length !== 1) throw new Error('runGraph handles models with one input');
    outputs.set(inputNames[0], x);
    for (const layer of model.layers) {
      if (outputs.has(layer.name)) continue;
      const node = (layer as unknown as { inboundNodes: NodeLike[] }).inboundNodes[0];
      const inputs = node.inboundLayers.map((l) => {
        const t = outputs.get(l.name);
        if (!t) throw new Error(`layer ${layer.name} needs ${l.name}, which has not run: the model is not in order`);
        return t;
      });
      const single = inputs.length === 1 ? inputs[0] : null;
      const out = (single && hook(layer, single)) ?? (layer.apply(single ?? inputs, kwargs) as tf.Tensor);
      outputs.set(layer.name, out);
    }
    const outName = model.outputLayers[0].name;
    return outputs.get(outName)!;
  });
}

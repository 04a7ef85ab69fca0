// The loss of hand-written training loops (retraining through approximate layers, noise tolerance):
// categorical cross-entropy on softmax outputs, as model.compile's 'categoricalCrossentropy'.
import * as tf from '@tensorflow/tfjs';

export const crossEntropy = (probs: tf.Tensor, labels: tf.Tensor): tf.Scalar => tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.log(tf.clipByValue(probs, 1e-7, 1))), -1))) as tf.Scalar;

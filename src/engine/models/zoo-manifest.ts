// public/models/zoo.json: what the zoo script trained and measured. The studio and `qos-studio models` read it.
import { z } from 'zod';

export const zooModelSchema = z.object({
  name: z.string(),
  title: z.string(),
  task: z.string(),
  description: z.string(),
  path: z.string(),
  params: z.number().int(),
  macs: z.number().int(),
  test_accuracy: z.number().min(0).max(1),
  test_count: z.number().int(),
  training: z.object({
    schedule: z.string(),
    epochs: z.number().int(),
    batch_size: z.number().int(),
    learning_rate: z.number(),
    seed: z.number().int(),
    backend: z.string(),
    seconds: z.number(),
  }),
});
export const zooManifestSchema = z.object({
  generated_by: z.string(),
  data: z.object({ name: z.string(), sha256: z.string(), train: z.number().int(), test: z.number().int() }),
  models: z.array(zooModelSchema),
});
export type ZooModel = z.infer<typeof zooModelSchema>;
export type ZooManifest = z.infer<typeof zooManifestSchema>;

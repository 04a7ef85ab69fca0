import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ['bin/qos-studio.js', ...args], { maxBuffer: 1 << 24 });

describe('qos-studio command line', () => {
  it('prints help', async () => {
    const { stdout } = await cli('--help');
    expect(stdout).toContain('models');
    expect(stdout).toContain('train');
  });

  it('lists the zoo as JSON with measured accuracy', async () => {
    const models = JSON.parse((await cli('models')).stdout);
    expect(models.map((m: { name: string }) => m.name)).toContain('lenet');
    for (const m of models) {
      expect(Object.keys(m)).toEqual(expect.arrayContaining(['name', 'task', 'params', 'macs', 'test_accuracy']));
      expect(m.test_accuracy).toBeGreaterThanOrEqual(0.97);
      expect(m.task).toBe('digits');
    }
    expect(models.find((m: { name: string }) => m.name === 'lenet')).toMatchObject({ params: 61706, macs: 416520 });
  });

  it('trains and prints test accuracy as JSON', async () => {
    const { stdout } = await cli('train', '--model', 'lenet', '--epochs', '1', '--train-limit', '1024', '--seed', '3');
    const result = JSON.parse(stdout);
    expect(result.epochs).toBe(1);
    expect(result.test_count).toBe(2000);
    // 1,024 digits for one epoch: far better than chance, far from finished.
    expect(result.test_accuracy).toBeGreaterThan(0.3);
    expect(result.history).toHaveLength(1);
  });

  it('fails with a clear message on a bad model name or option', async () => {
    await expect(cli('train', '--model', 'vgg')).rejects.toMatchObject({ stderr: expect.stringContaining('unknown model "vgg"') });
    await expect(cli('train', '--model', 'lenet', '--epochs', 'zero')).rejects.toMatchObject({ stderr: expect.stringContaining('epochs must be a positive whole number') });
  });
});

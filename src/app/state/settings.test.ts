import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, EXCLUDE_SEPARATOR, excludedIds, migrateSettings, settingsFromHash, settingsToHash } from './settings';

describe('settings', () => {
  it('round-trips the shareable settings through the URL hash', () => {
    const s = { ...DEFAULT_SETTINGS, view: 'train' as const, model: 'resnet', epochs: 3, batchSize: 32, learningRate: 0.002 };
    expect(settingsToHash(s)).toBe('#view=train&model=resnet&epochs=3&batch=32&lr=0.002&lambda=0.2&tepochs=2&repochs=1&digits=2000&guard=5&library=builtin&exclude=&k=4&scales=0.3%2C+1%2C+2&fepochs=1&frames=2000&xepochs=7&xstream=recording&qmethods=st%2Cuniform&qbits=1%2C2%2C3%2C4%2C8&qepochs=1&qsamples=2000');
    expect(settingsFromHash(settingsToHash(s))).toEqual({ view: 'train', model: 'resnet', epochs: 3, batchSize: 32, learningRate: 0.002, lambda: 0.2, toleranceEpochs: 2, retrainEpochs: 1, mappingDigits: 2000, mappingGuard: 5, library: 'builtin', mappingExclude: '', qosInstances: 4, qosScales: '0.3, 1, 2', qosFinetuneEpochs: 1, exitFrames: 2000, exitEpochs: 7, exitStream: 'recording', quantMethods: 'st,uniform', quantBits: '1,2,3,4,8', quantEpochs: 1, quantSamples: 2000 });
    const mapping = { ...DEFAULT_SETTINGS, view: 'mapping' as const, lambda: 0.5, library: 'imported' as const };
    expect(settingsFromHash(settingsToHash(mapping))).toMatchObject({ view: 'mapping', lambda: 0.5, library: 'imported' });
    const leftOut = { ...DEFAULT_SETTINGS, mappingExclude: ['bam-2-8', 'imported:mul8u_1,2'].join(EXCLUDE_SEPARATOR) };
    expect(excludedIds(settingsFromHash(settingsToHash(leftOut)) as typeof leftOut)).toEqual(['bam-2-8', 'imported:mul8u_1,2']);
    expect(excludedIds(DEFAULT_SETTINGS)).toEqual([]);
    const qos = { ...DEFAULT_SETTINGS, view: 'qos' as const, qosInstances: 3, qosScales: '0.5,1,1.5,3', qosFinetuneEpochs: 2 };
    expect(settingsFromHash(settingsToHash(qos))).toMatchObject({ view: 'qos', qosInstances: 3, qosScales: '0.5,1,1.5,3', qosFinetuneEpochs: 2 });
    expect(settingsFromHash(settingsToHash({ ...DEFAULT_SETTINGS, exitStream: 'mitbih' }))).toMatchObject({ exitStream: 'mitbih' });
    expect(settingsFromHash('#xstream=tape')).toEqual({});
    expect(settingsFromHash('#qbits=2,5&qmethods=st,pact&qepochs=3')).toEqual({ quantEpochs: 3 });
    expect(settingsFromHash('#view=quantise&qbits=2,3&qmethods=uniform')).toEqual({ view: 'quantise', quantBits: '2,3', quantMethods: 'uniform' });
  });
  it('takes only positive tolerance scales and a sensible number of instances from a link', () => {
    expect(settingsFromHash('#scales=0.3,-1&k=0&fepochs=2')).toEqual({ qosFinetuneEpochs: 2 });
    expect(settingsFromHash('#scales=abc')).toEqual({});
    expect(settingsFromHash('#scales=.5,2&k=16')).toEqual({ qosScales: '.5,2', qosInstances: 16 });
  });
  it('leaves out invalid or absent hash entries instead of defaulting them', () => {
    expect(settingsFromHash('#view=nowhere&epochs=-3&lr=abc&batch=16')).toEqual({ batchSize: 16 });
    expect(settingsFromHash('')).toEqual({});
  });
  it('keeps browser-only models out of the share link', () => {
    expect(settingsToHash({ ...DEFAULT_SETTINGS, model: 'user:1234' })).not.toContain('model=');
  });
  it('migrates version-1 state and repairs bad fields one by one', () => {
    const v1 = { settings: { lr: 0.01, modelName: 'mobilenet', epochs: 'many', theme: 'dark' } };
    expect(migrateSettings(v1, 1)).toEqual({ ...DEFAULT_SETTINGS, learningRate: 0.01, model: 'mobilenet', theme: 'dark' });
    expect(migrateSettings(null, 0)).toEqual(DEFAULT_SETTINGS);
  });
});

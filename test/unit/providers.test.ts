// ONNX Runtime provider choice per platform (issue 11 item 4): no GPU is needed to check the plumbing.
import { describe, expect, it } from 'vitest';
import { defaultBatchFor, providerLists } from '../../src/main/ml/encoder';

describe('execution providers', () => {
  it('offers the platform provider first on auto, and always ends in the CPU', () => {
    expect(providerLists('auto', { gpu: true, cuda: false, platform: 'win32' })).toEqual([
      ['dml', 'cpu'],
      ['webgpu', 'cpu'],
      ['cpu'],
    ]);
    expect(providerLists('auto', { gpu: true, cuda: false, platform: 'darwin' })[0]).toEqual([
      'coreml',
      'cpu',
    ]);
    expect(providerLists('auto', { gpu: true, cuda: true, platform: 'linux' })).toEqual([
      ['webgpu', 'cpu'],
      ['cuda', 'cpu'],
      ['cpu'],
    ]);
    expect(providerLists('auto', { gpu: false, cuda: true, platform: 'linux' })).toEqual([['cpu']]);
  });

  it('takes an explicit provider as asked', () => {
    expect(providerLists('dml')).toEqual([['dml', 'cpu']]);
    expect(providerLists('coreml')).toEqual([['coreml', 'cpu']]);
    expect(providerLists('cuda')).toEqual([['cuda', 'cpu']]);
  });

  it('sizes batches by the provider that really ran', () => {
    expect(defaultBatchFor('cuda+cpu')).toBe(256);
    expect(defaultBatchFor('webgpu+cpu')).toBe(64);
    expect(defaultBatchFor('cpu')).toBe(32);
  });
});

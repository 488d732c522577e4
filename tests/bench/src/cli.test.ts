import { describe, expect, it } from 'vitest';
import { BenchUsageError, parseBenchArgs, SCENARIOS } from './cli.js';

describe('the bench command line', () => {
  it('runs every scenario with baselines by default', () => {
    expect(parseBenchArgs([])).toEqual({
      quick: false,
      scenarios: [...SCENARIOS],
      baselines: true,
      tracing: false,
      connections: undefined,
      generators: undefined,
      out: undefined,
    });
  });

  it('reads the documented options', () => {
    const args = parseBenchArgs([
      '--quick',
      '--scenario',
      'throughput,fanout',
      '--no-baselines',
      '--connections',
      '20000',
      '--out',
      'x.json',
    ]);
    expect(args).toMatchObject({ quick: true, scenarios: ['throughput', 'fanout'], baselines: false, connections: 20000, out: 'x.json' });
  });

  it('answers help for --help and -h', () => {
    expect(parseBenchArgs(['--help'])).toBe('help');
    expect(parseBenchArgs(['-h'])).toBe('help');
  });

  it.each([
    [['--bogus'], /bogus/],
    [['--scenario', 'throughput,speed'], /unknown scenario speed/],
    [['--connections', 'many'], /--connections takes a positive whole number/],
    [['--generators', '0'], /--generators takes a positive whole number/],
  ])('refuses %j with a usage error', (argv, message) => {
    expect(() => parseBenchArgs(argv)).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(argv)).toThrow(message);
  });
});

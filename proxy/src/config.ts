// Reads the typed Config from command-line flags and SLUICE_PROXY_* environment variables (a flag wins over
// its variable). Any bad value is a ConfigError naming the flag or variable it came from; main exits 2 on it.
import { ConfigError, FLAGS, type Config, type FlagSpec } from './flags.js';

export { ConfigError, type Config } from './flags.js';

export const ENV_PREFIX = 'SLUICE_PROXY_';

export type ParseResult = { help: true } | { help: false; config: Config };

/** SLUICE_PROXY_STREAM_WINDOW for --stream-window. */
export function envName(flag: string): string {
  return ENV_PREFIX + flag.replace(/^--/, '').replace(/-/g, '_').toUpperCase();
}

export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ParseResult {
  const raw = new Map<FlagSpec, { value: string; where: string }>();
  readEnv(env, raw);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return { help: true };
    if (!arg.startsWith('--')) throw new ConfigError(arg, 'unexpected argument; flags look like --name VALUE (see --help)');
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const spec = FLAGS.find((f) => f.flag === name);
    if (!spec) throw new ConfigError(name, `unknown flag; known flags: ${FLAGS.map((f) => f.flag).join(', ')}`);
    let value: string;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (spec.valueName === undefined) value = 'true';
    else {
      // The next word is the value even when it starts with "-" (a negative number must reach the range check).
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new ConfigError(name, `needs a value: ${spec.valueName}`);
      value = next;
      i++;
    }
    raw.set(spec, { value, where: name });
  }
  const config: Record<string, unknown> = {};
  for (const spec of FLAGS) {
    const given = raw.get(spec);
    if (given) config[spec.key] = spec.parse(given.value, given.where);
    else if (spec.default !== undefined) config[spec.key] = spec.parse(spec.default, `default of ${spec.flag}`);
    else if (spec.unset === undefined) throw new ConfigError(spec.flag, `required; give ${spec.valueName} or set ${envName(spec.flag)}`);
  }
  const whereOf = (key: keyof Config): string => {
    const spec = FLAGS.find((f) => f.key === key)!;
    return raw.get(spec)?.where ?? spec.flag;
  };
  checkConfig(config as Partial<Config>, whereOf);
  return { help: false, config: config as unknown as Config };
}

function readEnv(env: NodeJS.ProcessEnv, raw: Map<FlagSpec, { value: string; where: string }>): void {
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const spec = FLAGS.find((f) => envName(f.flag) === name);
    if (!spec) {
      const known = FLAGS.map((f) => envName(f.flag)).join(', ');
      throw new ConfigError(name, `unknown setting; known variables: ${known}`);
    }
    raw.set(spec, { value, where: name });
  }
}

export function helpText(): string {
  const lines = [
    'Usage: node dist/proxy/src/main.js [flags]     (npm run proxy -- [flags])',
    '',
    'sluice-proxy: the HTTP/1.1 + h2c + gRPC proxy under test. One listener takes HTTP/1.1 and h2c',
    'prior knowledge; requests are spread over the endpoints (--endpoints, --endpoints-file or --destination)',
    'by --balancer (p2c over PeakEWMA by default).',
    '',
    `Every flag can also be set as ${ENV_PREFIX}<FLAG> (e.g. ${envName('--stream-window')}=262144);`,
    'a flag wins over its variable. Bad values stop the proxy with exit code 2.',
    '',
    'Flags:',
  ];
  for (const spec of FLAGS) {
    const head = spec.valueName ? `${spec.flag} ${spec.valueName}` : spec.flag;
    lines.push(`  ${head.padEnd(36)} default: ${spec.default ?? `(${spec.unset ?? 'required'})`}`);
    lines.push(`      ${spec.why}`);
  }
  lines.push(`  ${'--help, -h'.padEnd(36)} this text`);
  return lines.join('\n') + '\n';
}

/** What single flags cannot check: exactly one discovery source, and --service exactly with --destination.
 *  `whereOf` names the flag or variable a key came from. Leaves `endpoints` empty when another source is given. */
function checkConfig(config: Partial<Config>, whereOf: (key: keyof Config) => string): void {
  const sources = (['endpoints', 'endpointsFile', 'destination'] as const).filter((k) => config[k] !== undefined);
  if (sources.length === 0) {
    throw new ConfigError(
      '--endpoints',
      'required; give HOST:PORT,... or set SLUICE_PROXY_ENDPOINTS, or discover them with --endpoints-file FILE or --destination HOST:PORT --service NAME',
    );
  }
  if (sources.length > 1) {
    throw new ConfigError(sources.map(whereOf).join(', '), 'give exactly one discovery source: --endpoints, --endpoints-file or --destination');
  }
  if (config.destination !== undefined && config.destinationService === undefined) {
    throw new ConfigError('--service', `required with ${whereOf('destination')}: the service name to resolve`);
  }
  if (config.destinationService !== undefined && config.destination === undefined) {
    throw new ConfigError(whereOf('destinationService'), 'only with --destination (the control plane that knows the service)');
  }
  const idle = config.idleServices ?? [];
  if (idle.length > 0 && config.destination === undefined) {
    throw new ConfigError(whereOf('idleServices'), 'only with --destination (the control plane the idle streams are opened on)');
  }
  if (config.destinationService !== undefined && idle.includes(config.destinationService)) {
    throw new ConfigError(whereOf('idleServices'), `"${config.destinationService}" is --service, the one the proxy routes to and reads`);
  }
  config.endpoints ??= [];
}

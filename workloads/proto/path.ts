// Where the .proto files are: echo.proto for the backends and the harness's gRPC client, destination.proto for
// the synthetic control plane (and, read as a file, the proxy's --destination client). Imports nothing of sluice
// and no gRPC library, so any part may use it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The fully qualified service name inside echo.proto. */
export const ECHO_SERVICE = 'sluice.echo.Echo';

/**
 * @grpc/proto-loader options both sides must share: field names as written (response_bytes),
 * bytes as Buffer, unset fields as their defaults.
 */
export const ECHO_LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

/** Absolute path of workloads/proto/echo.proto, whether this runs compiled (dist/workloads/proto/) or from source. */
export function echoProtoPath(): string {
  return protoPath('echo.proto');
}

/** The fully qualified service name inside destination.proto (the synthetic control plane). */
export const DESTINATION_SERVICE = 'sluice.destination.Destination';

/** Absolute path of workloads/proto/destination.proto, compiled or from source. */
export function destinationProtoPath(): string {
  return protoPath('destination.proto');
}

function protoPath(file: string): string {
  const beside = fileURLToPath(new URL(`./${file}`, import.meta.url));
  if (existsSync(beside)) return beside;
  // Compiled: dist/workloads/proto/path.js -> <repo>/workloads/proto/<file> (tsc does not copy .proto files).
  return fileURLToPath(new URL(`../../../workloads/proto/${file}`, import.meta.url));
}

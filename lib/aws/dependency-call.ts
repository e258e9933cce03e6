import { DependencyUnavailableError } from '#lib/errors';

/** Runs one AWS call, turning any failure into the domain's "dependency unavailable" (the cause keeps the AWS error for the log). */
export async function callDependency<T>(
  dependency: DependencyUnavailableError['dependency'],
  send: () => Promise<T>,
): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw new DependencyUnavailableError(dependency, { cause: error });
  }
}

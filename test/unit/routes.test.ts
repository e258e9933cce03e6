import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ROUTES } from '#lib/http/routes';

/** serverless.yml's http events: the routes AWS and serverless-offline serve, by function. */
interface HttpEvent {
  method: string;
  path: string;
}
const functions = parseYaml(readFileSync(join(__dirname, '..', '..', 'serverless.yml'), 'utf8'), { logLevel: 'silent' }).functions as Record<
  string,
  { events?: Array<{ http?: HttpEvent }> }
>;
const httpEvents = (only: (key: string) => boolean) =>
  Object.entries(functions)
    .filter(([key]) => only(key))
    .flatMap(([, fn]) => (fn.events ?? []).flatMap((event) => (event.http ? [event.http] : [])));
const resourceOf = (path: string) => `/${path.replace(/^\//, '')}`;

describe('the route table a 405 answers from (lib/http/routes.ts)', () => {
  it('names exactly the methods serverless.yml serves on each path', () => {
    const served: Record<string, string[]> = {};
    for (const { method, path } of httpEvents((key) => key !== 'notFound')) (served[resourceOf(path)] ??= []).push(method.toUpperCase());
    expect(Object.fromEntries(Object.entries(served).map(([path, methods]) => [path, methods.sort()]))).toEqual(
      Object.fromEntries(Object.entries(ROUTES).map(([path, methods]) => [path, [...methods].sort()])),
    );
  });

  it('sends every other method of those paths to the notFound function, which answers the 405', () => {
    const catchAll = new Set(httpEvents((key) => key === 'notFound').filter((event) => event.method === 'any').map((event) => resourceOf(event.path)));
    expect(Object.keys(ROUTES).filter((path) => !catchAll.has(path))).toEqual([]);
  });
});

import { Agent, request } from 'undici';
import { geocodeSummary, type GeocodeResponse } from '../../src/adapters/google_maps/geocode.js';

/**
 * The one upstream call the bare Fastify route and the SDK server make per request, with the same HTTP client the hub
 * uses for Google (undici `request` on a keep-alive agent), so the comparison is about the server, not the client:
 * GET the stand-in's geocode endpoint and turn its answer into the `google_maps_geocode` tools/call result shape.
 * Environment: GOOGLE_API_BASE_URL (the stand-in), GOOGLE_API_KEY; BENCH_UPSTREAM_CLIENT=fetch uses WHATWG `fetch`
 * instead (what a server written from the SDK's documentation would typically call).
 */
const base = process.env.GOOGLE_API_BASE_URL ?? 'http://127.0.0.1:1';
const key = process.env.GOOGLE_API_KEY ?? '';
const useFetch = process.env.BENCH_UPSTREAM_CLIENT === 'fetch';
const dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 128 });

export async function geocodeResult(address: string): Promise<{ content: { type: 'text'; text: string }[]; structuredContent: Record<string, unknown> }> {
  const url = `${base}/maps/api/geocode/json?address=${encodeURIComponent(address)}&key=${encodeURIComponent(key)}`;
  const headers = { accept: 'application/json', 'x-goog-api-key': key };
  let status: number;
  let body: GeocodeResponse;
  if (useFetch) {
    const res = await fetch(url, { headers });
    status = res.status;
    body = (await res.json()) as GeocodeResponse;
  } else {
    const res = await request(url, { dispatcher, headers });
    status = res.statusCode;
    body = (await res.body.json()) as GeocodeResponse;
  }
  if (status !== 200 || body.status !== 'OK') throw new Error(`geocode failed: ${status} ${body.status}`);
  const structuredContent = geocodeSummary(body, 5);
  return { content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent };
}

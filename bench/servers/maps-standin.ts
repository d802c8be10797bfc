import { createServer } from 'node:http';

/**
 * The upstream of the gateway comparison: a minimal Google Geocoding API stand-in in its documented wire format
 * (GET /maps/api/geocode/json, key in `key=`, HTTP 200 `{results, status}`; a wrong key is REQUEST_DENIED), answering
 * one fixed result as fast as node:http can. Every server of the comparison calls it once per request.
 * Environment: PORT, BENCH_MAPS_KEY.
 */
const key = process.env.BENCH_MAPS_KEY ?? 'AIza-bench-key';
const ok = JSON.stringify({
  results: [
    {
      address_components: [],
      formatted_address: '1600 Amphitheatre Pkwy, Mountain View, CA 94043, USA',
      geometry: { location: { lat: 37.4225, lng: -122.0841 }, location_type: 'ROOFTOP' },
      place_id: 'ChIJF4Yf2Ry7j4AR__1AkytDyAE',
      types: ['street_address'],
    },
  ],
  status: 'OK',
});
const denied = JSON.stringify({ error_message: 'The provided API key is invalid. ', results: [], status: 'REQUEST_DENIED' });

createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://standin');
  if (url.pathname === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  if (req.method !== 'GET' || url.pathname !== '/maps/api/geocode/json') {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":404,"status":"NOT_FOUND"}}');
    return;
  }
  const body = url.searchParams.get('key') === key && url.searchParams.get('address') ? ok : denied;
  res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(body) }).end(body);
}).listen(Number(process.env.PORT), '127.0.0.1');

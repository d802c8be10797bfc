import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { system } from '../../../src/adapters/ai_ml/index.js';
import { FAKE_API_KEY, startAiMlFake, type AiMlFake } from '../../fakes/ai-ml.js';
import { AUTH, MCP_HEADERS, testHub, type TestHub } from '../../helpers/app.js';

/** The AI/ML tools through the whole hub (pipeline, MCP and REST), with only GOOGLE_API_KEY set. */
describe('ai_ml through the hub with GOOGLE_API_KEY only', () => {
  let fake: AiMlFake;
  let hub: TestHub;
  beforeAll(async () => {
    fake = await startAiMlFake();
    hub = await testHub({ MCP_SESSION_MODE: 'stateless', GOOGLE_API_BASE_URL: fake.url, GOOGLE_API_KEY: FAKE_API_KEY }, { systems: [system] });
  });
  afterAll(async () => {
    await hub?.close();
    await fake?.close();
  });

  const mcpCall = async (name: string, args: Record<string, unknown>) => {
    const res = await hub.app.inject({
      method: 'POST',
      url: '/mcp',
      headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2025-06-18' },
      payload: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
    });
    const body = res.body.includes('data: ') ? res.body.split('\n').find((l) => l.startsWith('data: '))!.slice(6) : res.body;
    return (JSON.parse(body) as { result: { isError?: boolean; content: Array<Record<string, unknown>>; structuredContent?: Record<string, unknown> } }).result;
  };

  it('returns TTS audio as MCP audio content next to the metadata', async () => {
    const result = await mcpCall('google_tts_synthesize', { text: 'Hi hub' });
    expect(result.isError).toBeFalsy();
    const audio = result.content.find((c) => c.type === 'audio');
    expect(audio).toEqual({ type: 'audio', mimeType: 'audio/mpeg', data: Buffer.from('ID3Hi hub').toString('base64') });
    expect(result.structuredContent).toMatchObject({ attached: true, mime_type: 'audio/mpeg', bytes: 9 });
  });

  it('answers not_configured (503) for Vertex AI over REST, naming the OAuth variables', async () => {
    const res = await hub.app.inject({ method: 'POST', url: '/v1/tools/google_vertex_predict', headers: AUTH, payload: { endpoint_id: '1', instances: [1] } });
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toMatchObject({ code: 'not_configured', variable: 'GOOGLE_OAUTH_TOKEN or GOOGLE_SERVICE_ACCOUNT_JSON' });
  });

  it('refuses https:// audio for Speech with 400 before calling the API', async () => {
    const before = fake.requests.length;
    const res = await hub.app.inject({ method: 'POST', url: '/v1/tools/google_speech_transcribe', headers: AUTH, payload: { audio: 'https://example.com/a.wav' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_arguments');
    expect(fake.requests.length).toBe(before);
  });

  it('runs a LOW tool over REST against the fake', async () => {
    const res = await hub.app.inject({ method: 'POST', url: '/v1/tools/google_translate_detect', headers: AUTH, payload: { texts: ['Bonjour'] } });
    expect(res.statusCode).toBe(200);
    expect(JSON.stringify(res.json())).toContain('"language":"fr"');
  });
});

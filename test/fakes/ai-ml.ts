import type http from 'node:http';
import { sendJson, startFakeServer, type FakeServer, type RecordedRequest } from '../helpers/fake-server.js';

/**
 * A local stand-in for the Google AI/ML REST APIs, all on one origin (as GOOGLE_API_BASE_URL makes them):
 * Gemini API v1beta, Vertex AI v1 (publisher models and endpoints), Vision v1, Natural Language v2, Translation v2,
 * Speech-to-Text v1 and Text-to-Speech v1. Paths, verbs, camelCase JSON and `{"error": {code, message, status}}`
 * bodies follow the public REST references. Answers are derived from the request so tests can see what was sent.
 */

export const FAKE_API_KEY = 'AIzaFakeKey-0123456789';
export const FAKE_TOKEN = 'ya29.fake-oauth-token';

export interface AiMlFake extends FakeServer {
  /** Parsed JSON body of the last request whose path contains `fragment`. */
  lastBody(fragment: string): Record<string, unknown>;
  last(fragment: string): RecordedRequest;
}

type Json = Record<string, unknown>;

function googleError(res: http.ServerResponse, code: number, status: string, message: string, extra: Json = {}): void {
  sendJson(res, code, { error: { code, message, status, ...extra } });
}

/** Which credential the request carries, checked the way Google front ends do. */
function authenticate(req: RecordedRequest, path: string, res: http.ServerResponse): 'key' | 'oauth' | null {
  const key = (req.headers['x-goog-api-key'] as string | undefined) ?? new URL(req.url, 'http://x').searchParams.get('key');
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  const vertex = path.startsWith('/v1/projects/');
  if (bearer !== undefined) {
    if (bearer === FAKE_TOKEN) return 'oauth';
    googleError(
      res,
      401,
      'UNAUTHENTICATED',
      'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    );
    return null;
  }
  if (key !== null && key !== undefined) {
    if (vertex) {
      googleError(res, 401, 'UNAUTHENTICATED', 'API keys are not supported by this API. Expected OAuth2 access token or other authentication credentials that assert a principal.');
      return null;
    }
    if (key === FAKE_API_KEY) return 'key';
    googleError(res, 400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', {
      details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }],
    });
    return null;
  }
  googleError(res, 403, 'PERMISSION_DENIED', "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.");
  return null;
}

const KNOWN_MODELS = new Set(['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-embedding-001']);

function decodeText(b64: unknown): string {
  return typeof b64 === 'string' ? Buffer.from(b64, 'base64').toString('utf8') : '';
}

/** A deterministic unit vector-ish embedding derived from the text, `dims` long. */
function embed(text: string, dims: number): number[] {
  return Array.from({ length: dims }, (_, i) => Math.round(Math.sin(text.length + i) * 1e6) / 1e6);
}

function generate(body: Json): Json {
  const contents = body.contents as Array<{ parts: Array<{ text: string }> }>;
  const prompt = contents[0]?.parts[0]?.text ?? '';
  if (prompt.includes('BLOCK')) return { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 3, totalTokenCount: 3 } };
  const cfg = (body.generationConfig ?? {}) as Json;
  const text = cfg.responseMimeType === 'application/json' ? JSON.stringify({ echo: prompt }) : `Echo: ${prompt}`;
  return {
    candidates: [
      {
        content: { role: 'model', parts: [{ text: 'thinking about it', thought: true }, { text }] },
        finishReason: cfg.maxOutputTokens === 1 ? 'MAX_TOKENS' : 'STOP',
        index: 0,
      },
    ],
    usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 6, thoughtsTokenCount: 2, totalTokenCount: 12 },
    modelVersion: 'gemini-2.5-flash-001',
    responseId: 'resp-1',
  };
}

function wav(seconds: number, rate = 24000): Buffer {
  const data = Buffer.alloc(Math.round(seconds * rate) * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

async function route(req: RecordedRequest, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url, 'http://fake');
  const path = decodeURIComponent(url.pathname);
  if (!authenticate(req, path, res)) return;
  const body: Json = req.body ? (JSON.parse(req.body) as Json) : {};
  let m: RegExpExecArray | null;

  // ---- Gemini API (v1beta) and Vertex AI publisher models ----
  if (req.method === 'GET' && path === '/v1beta/models') {
    return sendJson(res, 200, { models: [{ name: 'models/gemini-2.5-flash', displayName: 'Gemini 2.5 Flash' }], nextPageToken: 'p2' });
  }
  if ((m = /^(?:\/v1beta\/models|\/v1\/projects\/[^/]+\/locations\/[^/]+\/publishers\/google\/models)\/([^/:]+):(\w+)$/.exec(path))) {
    const [, model, method] = m;
    if (!KNOWN_MODELS.has(model!)) {
      return googleError(res, 404, 'NOT_FOUND', `models/${model} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`);
    }
    if (method === 'generateContent') return sendJson(res, 200, generate(body));
    if (method === 'embedContent') {
      const text = ((body.content as Json).parts as Array<{ text: string }>)[0]!.text;
      return sendJson(res, 200, { embedding: { values: embed(text, Number(body.outputDimensionality ?? 3072)) } });
    }
    if (method === 'batchEmbedContents') {
      const requests = body.requests as Array<{ content: { parts: Array<{ text: string }> }; outputDimensionality?: number }>;
      return sendJson(res, 200, { embeddings: requests.map((r) => ({ values: embed(r.content.parts[0]!.text, r.outputDimensionality ?? 3072) })) });
    }
    if (method === 'predict') {
      const instances = body.instances as Array<{ content: string }>;
      if (instances.length !== 1) return googleError(res, 400, 'INVALID_ARGUMENT', 'Only one input is supported per request for gemini-embedding-001.');
      const dims = Number((body.parameters as Json | undefined)?.outputDimensionality ?? 3072);
      return sendJson(res, 200, {
        predictions: [{ embeddings: { values: embed(instances[0]!.content, dims), statistics: { token_count: 3, truncated: false } } }],
        metadata: { billableCharacterCount: instances[0]!.content.length },
      });
    }
  }

  // ---- Vertex AI endpoints ----
  if ((m = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/endpoints\/([^/:]+):predict$/.exec(path))) {
    const [, project, location, id] = m;
    if (id === '404') return googleError(res, 404, 'NOT_FOUND', `Endpoint \`projects/${project}/locations/${location}/endpoints/${id}\` not found.`);
    const instances = body.instances as unknown[];
    const big = (body.parameters as Json | undefined)?.big === true;
    return sendJson(res, 200, {
      predictions: instances.map((inst, i) => (big ? { i, blob: 'x'.repeat(30_000) } : { input: inst, score: 0.5 + i / 100 })),
      deployedModelId: '777',
      model: `projects/${project}/locations/${location}/models/555`,
      modelDisplayName: 'churn-model',
      modelVersionId: '1',
    });
  }

  // ---- Cloud Vision ----
  if (req.method === 'POST' && path === '/v1/images:annotate') {
    const requests = body.requests as Array<{ image: { content?: string; source?: { imageUri?: string } }; features: Array<{ type: string; maxResults?: number }> }>;
    const responses = requests.map((r) => {
      const uri = r.image.source?.imageUri;
      if (uri?.includes('unreachable')) return { error: { code: 7, message: 'We can not access the URL currently. Please download the content and pass it in.' } };
      const feature = r.features[0]!;
      if (feature.type === 'LABEL_DETECTION') {
        const labels = [
          { mid: '/m/01yrx', description: 'Cat', score: 0.98, topicality: 0.98 },
          { mid: '/m/0jbk', description: 'Animal', score: 0.92, topicality: 0.92 },
          { mid: '/m/01lrl', description: 'Carnivore', score: 0.85, topicality: 0.85 },
        ];
        return { labelAnnotations: labels.slice(0, feature.maxResults ?? 10) };
      }
      const text = r.image.content ? decodeText(r.image.content).replace(/\0/g, '') : `text at ${uri}`;
      if (!text) return {};
      return {
        textAnnotations: [{ locale: 'en', description: text }],
        fullTextAnnotation: { text, pages: [{ property: { detectedLanguages: [{ languageCode: 'en', confidence: 0.99 }] } }] },
      };
    });
    return sendJson(res, 200, { responses });
  }

  // ---- Natural Language v2 ----
  if ((m = /^\/v2\/documents:(analyzeSentiment|analyzeEntities|classifyText)$/.exec(path))) {
    const doc = body.document as { type: string; content: string; languageCode?: string };
    if (doc.languageCode === 'xx') return googleError(res, 400, 'INVALID_ARGUMENT', 'The language xx is not supported for document_sentiment analysis.');
    const languageCode = doc.languageCode ?? 'en';
    if (m[1] === 'analyzeSentiment') {
      const sentences = doc.content.split(/(?<=\.)\s*/).filter(Boolean);
      const scoreOf = (s: string): number => (/good|great/i.test(s) ? 0.8 : /bad|awful/i.test(s) ? -0.7 : 0);
      const scores = sentences.map(scoreOf);
      return sendJson(res, 200, {
        documentSentiment: { magnitude: scores.reduce((a, b) => a + Math.abs(b), 0), score: scores.reduce((a, b) => a + b, 0) / scores.length },
        languageCode,
        sentences: sentences.map((s, i) => ({ text: { content: s, beginOffset: -1 }, sentiment: { magnitude: Math.abs(scores[i]!), score: scores[i] } })),
        languageSupported: true,
      });
    }
    if (m[1] === 'analyzeEntities') {
      const names = [...new Set(doc.content.match(/\b[A-Z][a-z]+\b/g) ?? [])];
      return sendJson(res, 200, {
        entities: names.map((name) => ({
          name,
          type: name === 'Google' ? 'ORGANIZATION' : 'PERSON',
          metadata: name === 'Google' ? { wikipedia_url: 'https://en.wikipedia.org/wiki/Google', mid: '/m/045c7b' } : {},
          mentions: (doc.content.match(new RegExp(`\\b${name}\\b`, 'g')) ?? []).map((_, i) => ({
            text: { content: name, beginOffset: -1 },
            type: 'PROPER',
            probability: 0.9 - i / 10,
          })),
        })),
        languageCode,
        languageSupported: true,
      });
    }
    if (doc.content.split(/\s+/).length < 20) return googleError(res, 400, 'INVALID_ARGUMENT', 'Invalid text content: too few tokens (words) to process.');
    return sendJson(res, 200, {
      categories: [
        { name: '/Computers & Electronics/Software', confidence: 0.91, severity: 0 },
        { name: '/Science/Computer Science', confidence: 0.55, severity: 0 },
      ],
      languageCode,
      languageSupported: true,
    });
  }

  // ---- Translation v2 (errors here use the older body without `status`) ----
  if (req.method === 'GET' && path === '/language/translate/v2/languages') {
    return sendJson(res, 200, { data: { languages: [{ language: 'de' }, { language: 'en' }, { language: 'fr' }] } });
  }
  if (req.method === 'POST' && path === '/language/translate/v2') {
    const q = body.q as string[];
    if (body.target === 'zz') {
      return sendJson(res, 400, { error: { code: 400, message: 'Invalid Value', errors: [{ message: 'Invalid Value', domain: 'global', reason: 'invalid' }] } });
    }
    return sendJson(res, 200, {
      data: {
        translations: q.map((t) => ({ translatedText: `[${String(body.target)}] ${t}`, ...(body.source ? {} : { detectedSourceLanguage: 'en' }) })),
      },
    });
  }
  if (req.method === 'POST' && path === '/language/translate/v2/detect') {
    const q = body.q as string[];
    return sendJson(res, 200, {
      data: {
        detections: q.map((t) =>
          /bonjour/i.test(t)
            ? [{ language: 'es', isReliable: false, confidence: 0.2 }, { language: 'fr', isReliable: false, confidence: 0.97 }]
            : [{ language: 'en', isReliable: false, confidence: 1 }],
        ),
      },
    });
  }

  // ---- Speech-to-Text v1 ----
  if (req.method === 'POST' && path === '/v1/speech:recognize') {
    const config = body.config as Json;
    const audio = body.audio as { content?: string; uri?: string };
    if (config.encoding === 'LINEAR16' && config.sampleRateHertz === undefined) {
      return googleError(res, 400, 'INVALID_ARGUMENT', 'Invalid recognition \'config\': sample_rate_hertz must be specified for LINEAR16 audio without a header.');
    }
    const spoken = audio.content !== undefined ? decodeText(audio.content).replace(/\0/g, '') : `audio from ${audio.uri}`;
    if (!spoken) return sendJson(res, 200, { totalBilledTime: '0s', requestId: '42' });
    const parts = spoken.split('|');
    return sendJson(res, 200, {
      results: parts.map((p, i) => ({
        alternatives: [{ transcript: i === 0 ? p : ` ${p}`, confidence: 0.93 }],
        resultEndTime: `${(i + 1) * 2}.500s`,
        languageCode: String(config.languageCode).toLowerCase(),
      })),
      totalBilledTime: '15s',
      requestId: '1234567890',
    });
  }

  // ---- Text-to-Speech v1 ----
  if (req.method === 'POST' && path === '/v1/text:synthesize') {
    const voice = body.voice as { languageCode: string; name?: string };
    const audioConfig = body.audioConfig as { audioEncoding: string };
    if (voice.name === 'en-US-Nope') return googleError(res, 400, 'INVALID_ARGUMENT', 'Voice \'en-US-Nope\' does not exist. Is it misspelled?');
    const input = body.input as { text?: string; ssml?: string };
    const spoken = input.text ?? input.ssml ?? '';
    const audio =
      audioConfig.audioEncoding === 'LINEAR16'
        ? wav(spoken.length / 10)
        : audioConfig.audioEncoding === 'OGG_OPUS'
          ? Buffer.concat([Buffer.from('OggS'), Buffer.from(spoken)])
          : Buffer.concat([Buffer.from('ID3'), Buffer.from(spoken)]);
    return sendJson(res, 200, { audioContent: audio.toString('base64') });
  }

  googleError(res, 404, 'NOT_FOUND', `fake: no route for ${req.method} ${path}`);
}

export async function startAiMlFake(): Promise<AiMlFake> {
  const server = await startFakeServer(route);
  const find = (fragment: string): RecordedRequest => {
    const hit = [...server.requests].reverse().find((r) => r.url.includes(fragment));
    if (!hit) throw new Error(`fake received no request for ${fragment}`);
    return hit;
  };
  return Object.assign(server, {
    last: find,
    lastBody: (fragment: string) => JSON.parse(find(fragment).body) as Record<string, unknown>,
  });
}

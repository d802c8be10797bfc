import { describe, expect, it } from 'vitest';
import { languageClassify, languageEntities, languageSentiment } from '../../../src/adapters/ai_ml/language.js';
import { visionLabels, visionOcr } from '../../../src/adapters/ai_ml/vision.js';
import { aiConfig, failure, run, sentWithKey, sentWithToken, useAiMlFake } from './helpers.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('Cloud Vision tools against a fake images:annotate', () => {
  const fake = useAiMlFake();

  it('google_vision_labels sends base64 content with LABEL_DETECTION and returns scored labels', async () => {
    const image = b64('\x89PNG fake image bytes');
    const result = await run(visionLabels, { image, max_results: 2 }, aiConfig(fake, 'key'));
    const req = fake.last('/v1/images:annotate');
    expect(req.method).toBe('POST');
    sentWithKey(req);
    expect(JSON.parse(req.body)).toEqual({ requests: [{ image: { content: image }, features: [{ type: 'LABEL_DETECTION', maxResults: 2 }] }] });
    expect(result).toEqual({
      labels: [
        { description: 'Cat', score: 0.98, topicality: 0.98, mid: '/m/01yrx' },
        { description: 'Animal', score: 0.92, topicality: 0.92, mid: '/m/0jbk' },
      ],
      count: 2,
    });
    expect(visionLabels.output!.safeParse(result).success).toBe(true);
  });

  it('passes gs:// and https:// images as source.imageUri, and strips data: URL prefixes', async () => {
    await run(visionLabels, { image: 'gs://my-bucket/cats/1.jpg' }, aiConfig(fake, 'oauth'));
    let body = fake.lastBody('/v1/images:annotate') as { requests: Array<{ image: unknown }> };
    expect(body.requests[0]!.image).toEqual({ source: { imageUri: 'gs://my-bucket/cats/1.jpg' } });
    sentWithToken(fake.last('/v1/images:annotate'));

    await run(visionLabels, { image: 'https://example.com/cat.jpg' }, aiConfig(fake, 'key'));
    body = fake.lastBody('/v1/images:annotate') as { requests: Array<{ image: unknown }> };
    expect(body.requests[0]!.image).toEqual({ source: { imageUri: 'https://example.com/cat.jpg' } });

    await run(visionLabels, { image: `data:image/png;base64,${b64('png')}` }, aiConfig(fake, 'key'));
    body = fake.lastBody('/v1/images:annotate') as { requests: Array<{ image: unknown }> };
    expect(body.requests[0]!.image).toEqual({ content: b64('png') });
  });

  it('rejects images that are neither base64 nor a gs:// / https:// URL at validation', () => {
    expect(visionLabels.input.safeParse({ image: 'http://example.com/cat.jpg' }).success).toBe(false);
    expect(visionLabels.input.safeParse({ image: 'not base64 at all!' }).success).toBe(false);
    expect(visionLabels.input.safeParse({ image: 'gs://' }).success).toBe(false);
  });

  it('google_vision_ocr returns the full text and detected language', async () => {
    const result = await run(visionOcr, { image: b64('Hello OCR\nLine two'), mode: 'DOCUMENT_TEXT_DETECTION', language_hints: ['en'] }, aiConfig(fake, 'key'));
    expect(fake.lastBody('/v1/images:annotate')).toEqual({
      requests: [{ image: { content: b64('Hello OCR\nLine two') }, features: [{ type: 'DOCUMENT_TEXT_DETECTION' }], imageContext: { languageHints: ['en'] } }],
    });
    expect(result).toEqual({ text: 'Hello OCR\nLine two', languages: [{ language_code: 'en', confidence: 0.99 }], characters: 18, truncated: false });
    expect(visionOcr.output!.safeParse(result).success).toBe(true);
  });

  it('google_vision_ocr returns empty text for an image without text', async () => {
    const result = await run(visionOcr, { image: b64('') + 'AA==' }, aiConfig(fake, 'key'));
    expect(result).toMatchObject({ text: '', characters: 0 });
  });

  it('surfaces a per-image error (HTTP 200 with responses[0].error) as upstream_error', async () => {
    const err = await failure(run(visionOcr, { image: 'https://unreachable.example.com/x.png' }, aiConfig(fake, 'key')));
    expect(err.code).toBe('upstream_error');
    expect(err.details).toMatchObject({ upstream_status: 200, upstream_code: 7 });
    expect(err.message).toContain('We can not access the URL currently');
  });

  it('answers not_configured naming GOOGLE_API_KEY when neither a key nor OAuth is set, without calling Vision', async () => {
    const config = aiConfig(fake, 'key');
    config.google.apiKey = undefined;
    config.google.oauthToken = undefined;
    const err = await failure(run(visionLabels, { image: b64('x') }, config));
    expect(err.code).toBe('not_configured');
    expect(err.details.variable).toBe('GOOGLE_API_KEY');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('Cloud Natural Language v2 tools against a fake documents API', () => {
  const fake = useAiMlFake();

  it('google_language_sentiment posts a v2 Document and returns document and sentence scores', async () => {
    const result = await run(languageSentiment, { text: 'The food was great. The service was awful.' }, aiConfig(fake, 'key'));
    const req = fake.last('/v2/documents:analyzeSentiment');
    sentWithKey(req);
    expect(JSON.parse(req.body)).toEqual({
      document: { type: 'PLAIN_TEXT', content: 'The food was great. The service was awful.' },
      encodingType: 'UTF8',
    });
    expect(result.score).toBeCloseTo(0.05, 5);
    expect(result.magnitude).toBeCloseTo(1.5, 5);
    expect(result.sentences).toEqual([
      { text: 'The food was great.', score: 0.8, magnitude: 0.8 },
      { text: 'The service was awful.', score: -0.7, magnitude: 0.7 },
    ]);
    expect(result).toMatchObject({ language_code: 'en', language_supported: true, truncated: false });
    expect(languageSentiment.output!.safeParse(result).success).toBe(true);
  });

  it('google_language_entities returns entities with type, mention count, best probability and metadata', async () => {
    const result = await run(
      languageEntities,
      { text: '<p>Sundar works at Google. Google is big.</p>', type: 'HTML', language_code: 'en' },
      aiConfig(fake, 'oauth'),
    );
    const req = fake.last('/v2/documents:analyzeEntities');
    sentWithToken(req);
    expect(JSON.parse(req.body)).toEqual({
      document: { type: 'HTML', content: '<p>Sundar works at Google. Google is big.</p>', languageCode: 'en' },
      encodingType: 'UTF8',
    });
    expect(result.entities).toEqual([
      { name: 'Sundar', type: 'PERSON', mentions: 1, probability: 0.9, metadata: {} },
      {
        name: 'Google',
        type: 'ORGANIZATION',
        mentions: 2,
        probability: 0.9,
        metadata: { wikipedia_url: 'https://en.wikipedia.org/wiki/Google', mid: '/m/045c7b' },
      },
    ]);
    expect(result).toMatchObject({ count: 2, language_code: 'en', truncated: false });
    expect(languageEntities.output!.safeParse(result).success).toBe(true);
  });

  it('google_language_classify returns categories with confidence', async () => {
    const text = Array.from({ length: 25 }, (_, i) => `word${i}`).join(' ');
    const result = await run(languageClassify, { text }, aiConfig(fake, 'key'));
    expect(fake.lastBody('/v2/documents:classifyText')).toEqual({ document: { type: 'PLAIN_TEXT', content: text } });
    expect(result).toEqual({
      categories: [
        { name: '/Computers & Electronics/Software', confidence: 0.91 },
        { name: '/Science/Computer Science', confidence: 0.55 },
      ],
      language_code: 'en',
      language_supported: true,
    });
  });

  it('maps the API error for too-short text to upstream_error 400 with the message', async () => {
    const err = await failure(run(languageClassify, { text: 'too short' }, aiConfig(fake, 'key')));
    expect(err.code).toBe('upstream_error');
    expect(err.details).toMatchObject({ upstream_status: 400, upstream_code: 'INVALID_ARGUMENT' });
    expect(err.message).toContain('too few tokens');
  });

  it('caps the text length at validation', () => {
    expect(languageSentiment.input.safeParse({ text: 'x'.repeat(100_001) }).success).toBe(false);
  });
});

import type { SystemDefinition } from '../../tools/types.js';
import { googleMissingConfig } from '../google/credentials.js';
import { checkAiMl } from './check.js';
import { geminiEmbed, geminiGenerate } from './gemini.js';
import { languageClassify, languageEntities, languageSentiment } from './language.js';
import { speechTranscribe } from './speech.js';
import { translateDetect, translateText } from './translate.js';
import { ttsSynthesize } from './tts.js';
import { vertexPredict } from './vertex.js';
import { visionLabels, visionOcr } from './vision.js';

/**
 * Google AI/ML over REST (googleRequest, on undici). Every API here but Vertex AI accepts GOOGLE_API_KEY, so the system is
 * configured with a key alone; google_vertex_predict (and Gemini without a key) then asks for OAuth credentials.
 */
export const system: SystemDefinition = {
  id: 'ai_ml',
  title: 'Google AI/ML',
  tools: [
    geminiGenerate,
    geminiEmbed,
    visionLabels,
    visionOcr,
    languageSentiment,
    languageEntities,
    languageClassify,
    translateText,
    translateDetect,
    speechTranscribe,
    ttsSynthesize,
    vertexPredict,
  ],
  missingConfig: (config) => googleMissingConfig(config, { apiKeyAccepted: true }),
  check: checkAiMl,
};

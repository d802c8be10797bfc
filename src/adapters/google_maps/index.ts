import type { SystemDefinition } from '../../tools/types.js';
import { checkMaps } from './check.js';
import { mapsDirections } from './directions.js';
import { mapsGeocode } from './geocode.js';
import { mapsPlacesSearch } from './places.js';

/** Google Maps Platform web services with GOOGLE_API_KEY: Geocoding, Routes (directions) and Places (New). */
export const system: SystemDefinition = {
  id: 'maps',
  title: 'Google Maps',
  tools: [mapsGeocode, mapsDirections, mapsPlacesSearch],
  missingConfig: (config) => (config.google.apiKey ? null : 'GOOGLE_API_KEY'),
  check: checkMaps,
};

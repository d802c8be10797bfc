import type { SystemDefinition } from '../tools/types.js';
import { system as aiMl } from './ai_ml/index.js';
import { system as chatgpt } from './chatgpt/index.js';
import { system as cloudRun } from './cloud_run/index.js';
import { system as connector } from './connector/index.js';
import { system as docker } from './docker/index.js';
import { system as github } from './github/index.js';
import { system as intelligence } from './intelligence/index.js';
import { system as maps } from './google_maps/index.js';
import { system as workspace } from './google_workspace/index.js';
import { checkInventory } from './names.js';

/**
 * Every system the hub knows, in the order `npm run check` lists them. TOOLSETS narrows it at start; the config
 * checks TOOLSETS against SYSTEM_IDS, so a system added here without its id there stops the hub from loading.
 */
export const SYSTEMS: readonly SystemDefinition[] = [cloudRun, workspace, aiMl, maps, docker, intelligence, github, chatgpt, connector];
checkInventory(SYSTEMS);

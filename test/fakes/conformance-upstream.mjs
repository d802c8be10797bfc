// The MCP conformance suite's fixture server, written for this repository on the official SDK v2 (`Server`,
// `serveStdio`): the tools, prompts and resources named test_* that the suite's server scenarios call, behaving as the
// scenarios check them. The hub federates it over stdio (both eras: the opening exchange chooses) and serves it as a
// transparent profile, so the suite exercises the hub's relay — per-request capabilities, input_required rounds with
// requestState, protocol errors, progress, completion, resources and prompts — against a real upstream
// (test/conformance/conformance.test.ts). Plain JavaScript, so the hub can start it without a build step.
import { randomBytes } from 'node:crypto';
import {
  CLIENT_CAPABILITIES_META_KEY,
  createRequestStateCodec,
  inputRequired,
  LOG_LEVEL_META_KEY,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  ResourceNotFoundError,
  Server,
} from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';

// A 1x1 red PNG and a minimal WAV file: the suite checks only type and MIME of media content.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WAV = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=';

const text = (t) => ({ content: [{ type: 'text', text: t }] });
const object = (properties = {}, required) => ({ type: 'object', properties, ...(required ? { required } : {}) });
const form = (message, properties, required) => inputRequired.elicit({ message, requestedSchema: object(properties, required) });

/** Tools added and removed by test_trigger_tool_change, so the list really changes. */
let generation = 0;
/** Prompts likewise (test_trigger_prompt_change). */
let promptGeneration = 0;

const TOOLS = [
  'test_simple_text',
  'test_image_content',
  'test_audio_content',
  'test_embedded_resource',
  'test_multiple_content_types',
  'test_error_handling',
  'test_tool_with_progress',
  'test_tool_with_logging',
  'test_logging_tool',
  'test_missing_capability',
  'test_streaming_elicitation',
  'test_trigger_tool_change',
  'test_trigger_prompt_change',
  'test_input_required_result_elicitation',
  'test_input_required_result_sampling',
  'test_input_required_result_list_roots',
  'test_input_required_result_request_state',
  'test_input_required_result_tampered_state',
  'test_input_required_result_multiple_inputs',
  'test_input_required_result_multi_round',
  'test_input_required_result_capabilities',
];

/** A JSON Schema 2020-12 input schema with the keywords the suite checks are passed on unchanged ($schema, $defs, ...). */
const SCHEMA_2020_12 = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: { address: { $anchor: 'addressDef', type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
    contactMethod: { type: 'string', enum: ['phone', 'email'] },
    phone: { type: 'string' },
    email: { type: 'string' },
  },
  allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
  if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
  then: { required: ['phone'] },
  else: { required: ['email'] },
  additionalProperties: false,
};

/**
 * The 2025 scenarios' tools that ask the client for a completion or a form. They are written once, as input_required
 * rounds: a 2026-07-28 caller answers the rounds itself; for a 2025 session the hub's SDK turns them into
 * server-to-client `sampling/createMessage` / `elicitation/create` requests (its legacy shim).
 */
const ASKING = {
  test_sampling: { schema: object({ prompt: { type: 'string' } }, ['prompt']) },
  test_elicitation: { schema: object({ message: { type: 'string' } }, ['message']) },
  test_elicitation_sep1034_defaults: { schema: object() },
  test_elicitation_sep1330_enums: { schema: object() },
};

const PROMPTS = [
  { name: 'test_simple_prompt', description: 'A prompt without arguments' },
  {
    name: 'test_prompt_with_arguments',
    description: 'A prompt with two required arguments',
    arguments: [
      { name: 'arg1', description: 'First argument', required: true },
      { name: 'arg2', description: 'Second argument', required: true },
    ],
  },
  {
    name: 'test_prompt_with_embedded_resource',
    description: 'A prompt embedding a resource',
    arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }],
  },
  { name: 'test_prompt_with_image', description: 'A prompt with an image' },
  { name: 'test_input_required_result_prompt', description: 'A prompt that asks the user for context first' },
];

function newServer() {
  // Integrity-protected requestState, as the suite's tampered-state scenario asks of a server.
  const codec = createRequestStateCodec({ key: new Uint8Array(randomBytes(32)), ttlSeconds: 600 });
  const server = new Server(
    { name: 'conformance-upstream', version: '1.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        prompts: { listChanged: true },
        resources: { listChanged: true },
        completions: {},
        logging: {},
      },
      requestState: { verify: (state, ctx) => codec.verify(state, ctx) },
    },
  );
  /** The client capabilities of this request: its 2026-07-28 envelope, or what a 2025 client declared at initialize. */
  const capabilities = (ctx) => ctx.mcpReq.envelope?.[CLIENT_CAPABILITIES_META_KEY] ?? server.getClientCapabilities() ?? {};
  const answered = (ctx, key) => ctx.mcpReq.inputResponses?.[key];

  server.setRequestHandler('tools/list', () => ({
    tools: [
      ...TOOLS.map((name) => ({ name, description: `conformance fixture ${name}`, inputSchema: object() })),
      ...Object.entries(ASKING).map(([name, { schema }]) => ({ name, description: `conformance fixture ${name}`, inputSchema: schema })),
      { name: 'json_schema_2020_12_tool', description: 'Tool with JSON Schema 2020-12 features', inputSchema: SCHEMA_2020_12 },
      ...Array.from({ length: generation }, (_, i) => ({ name: `test_added_${i}`, description: 'added by test_trigger_tool_change', inputSchema: object() })),
    ],
  }));

  server.setRequestHandler('tools/call', async (req, ctx) => {
    const { name } = req.params;
    switch (name) {
      case 'test_simple_text':
        return text('This is a simple text response for testing.');
      case 'test_image_content':
        return { content: [{ type: 'image', data: PNG, mimeType: 'image/png' }] };
      case 'test_audio_content':
        return { content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }] };
      case 'test_embedded_resource':
        return { content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }] };
      case 'test_multiple_content_types':
        return {
          content: [
            { type: 'text', text: 'Multiple content types test:' },
            { type: 'image', data: PNG, mimeType: 'image/png' },
            { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: JSON.stringify({ test: 'data', value: 123 }) } },
          ],
        };
      case 'test_error_handling':
        return { content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }], isError: true };
      case 'test_tool_with_progress': {
        const token = req.params._meta?.progressToken;
        // Steps apart in time, as the suite describes (~50 ms): an SDK client drops a progress notification that it reads
        // in the same chunk as the call's result (it forgets the call's progress handler first).
        for (const progress of [0, 50, 100]) {
          if (token !== undefined) await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress, total: 100, message: `Completed step ${progress} of 100` } });
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return text(String(token ?? 'no progress token'));
      }
      case 'test_tool_with_logging':
      case 'test_logging_tool': {
        // A 2026-07-28 request gets log messages only when it set a log level; a 2025 session per logging/setLevel.
        const modern = ctx.mcpReq.envelope !== undefined;
        if (!modern || ctx.mcpReq.envelope?.[LOG_LEVEL_META_KEY] !== undefined) {
          // Spaced out like a tool that works between its messages (the suite's description asks for delays); a client's
          // SDK may dispatch a notification sent in the same instant as the result after it.
          for (const data of ['Tool execution started', 'Tool processing data', 'Tool execution completed']) {
            await ctx.mcpReq.notify({ method: 'notifications/message', params: { level: 'info', logger: 'conformance-upstream', data } });
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
        return text('Tool with logging executed successfully');
      }
      case 'test_missing_capability':
        if (!capabilities(ctx).sampling) {
          throw new MissingRequiredClientCapabilityError({ requiredCapabilities: { sampling: {} } }, 'test_missing_capability needs the sampling capability');
        }
        return inputRequired({ inputRequests: { summary: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Summarise' } }], maxTokens: 50 }) } });
      case 'test_streaming_elicitation':
        if (answered(ctx, 'confirm')) return text('confirmed');
        return inputRequired({ inputRequests: { confirm: form('Continue?', { ok: { type: 'boolean' } }, ['ok']) } });
      case 'test_trigger_tool_change':
        generation += 1;
        await server.sendToolListChanged();
        return text(`tool list generation ${generation}`);
      case 'test_trigger_prompt_change':
        promptGeneration += 1;
        await server.sendPromptListChanged();
        return text(`prompt list generation ${promptGeneration}`);
      case 'test_input_required_result_elicitation': {
        const answer = answered(ctx, 'user_name');
        if (answer && typeof answer === 'object' && answer.action === 'accept') return text(`Hello, ${answer.content?.name ?? 'stranger'}!`);
        return inputRequired({ inputRequests: { user_name: form('What is your name?', { name: { type: 'string' } }, ['name']) } });
      }
      case 'test_input_required_result_sampling': {
        const answer = answered(ctx, 'capital_question');
        if (answer) return text(`The model said: ${answer.content?.text ?? ''}`);
        return inputRequired({
          inputRequests: {
            capital_question: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }], maxTokens: 100 }),
          },
        });
      }
      case 'test_input_required_result_list_roots': {
        const answer = answered(ctx, 'client_roots');
        if (answer) return text(`Roots: ${(answer.roots ?? []).map((r) => r.uri).join(', ')}`);
        return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
      }
      case 'test_input_required_result_request_state':
      case 'test_input_required_result_tampered_state': {
        const state = ctx.mcpReq.requestState();
        if (state?.tool === name && answered(ctx, 'confirm')) return text('state-ok: the request state came back intact');
        return inputRequired({
          inputRequests: { confirm: form('Please confirm', { ok: { type: 'boolean' } }, ['ok']) },
          requestState: await codec.mint({ tool: name }, ctx),
        });
      }
      case 'test_input_required_result_multiple_inputs': {
        const state = ctx.mcpReq.requestState();
        if (state?.tool === name && ['user_name', 'greeting', 'client_roots'].every((k) => answered(ctx, k))) return text('all three answers arrived');
        return inputRequired({
          inputRequests: {
            user_name: form('What is your name?', { name: { type: 'string' } }, ['name']),
            greeting: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }], maxTokens: 50 }),
            client_roots: inputRequired.listRoots(),
          },
          requestState: await codec.mint({ tool: name }, ctx),
        });
      }
      case 'test_input_required_result_multi_round': {
        const state = ctx.mcpReq.requestState();
        if (state?.tool === name && state.round === 2 && answered(ctx, 'step2')) return text(`Done: ${state.name}'s favourite colour is ${answered(ctx, 'step2').content?.color}`);
        if (state?.tool === name && state.round === 1 && answered(ctx, 'step1')) {
          return inputRequired({
            inputRequests: { step2: form('Step 2: What is your favorite color?', { color: { type: 'string' } }, ['color']) },
            requestState: await codec.mint({ tool: name, round: 2, name: answered(ctx, 'step1').content?.name }, ctx),
          });
        }
        return inputRequired({
          inputRequests: { step1: form('Step 1: What is your name?', { name: { type: 'string' } }, ['name']) },
          requestState: await codec.mint({ tool: name, round: 1 }, ctx),
        });
      }
      case 'test_input_required_result_capabilities': {
        // Asks only for what the request's client capabilities allow.
        const caps = capabilities(ctx);
        const requests = {};
        if (caps.elicitation) requests.user_name = form('What is your name?', { name: { type: 'string' } }, ['name']);
        if (caps.sampling) requests.greeting = inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Say hello' } }], maxTokens: 20 });
        if (caps.roots) requests.client_roots = inputRequired.listRoots();
        if (Object.keys(requests).length === 0 || Object.keys(requests).every((k) => answered(ctx, k))) return text('nothing (more) to ask');
        return inputRequired({ inputRequests: requests });
      }
      case 'json_schema_2020_12_tool':
        return text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(req.params.arguments ?? {})}`);
      case 'test_sampling': {
        const answer = answered(ctx, 'sample');
        if (answer) return text(`LLM response: ${answer.content?.text ?? ''}`);
        const prompt = String(req.params.arguments?.prompt ?? '');
        return inputRequired({ inputRequests: { sample: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 }) } });
      }
      case 'test_elicitation': {
        const answer = answered(ctx, 'user');
        if (answer) return text(`User response: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`);
        const message = String(req.params.arguments?.message ?? '');
        const properties = { username: { type: 'string', description: "User's response" }, email: { type: 'string', description: "User's email address" } };
        return inputRequired({ inputRequests: { user: form(message, properties, ['username', 'email']) } });
      }
      case 'test_elicitation_sep1034_defaults': {
        const answer = answered(ctx, 'defaults');
        if (answer) return text(`Elicitation completed: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`);
        const properties = {
          name: { type: 'string', description: 'User name', default: 'John Doe' },
          age: { type: 'integer', description: 'User age', default: 30 },
          score: { type: 'number', description: 'User score', default: 95.5 },
          status: { type: 'string', description: 'User status', enum: ['active', 'inactive', 'pending'], default: 'active' },
          verified: { type: 'boolean', description: 'Verification status', default: true },
        };
        return inputRequired({ inputRequests: { defaults: form('Please review and update the form fields with defaults', properties, []) } });
      }
      case 'test_elicitation_sep1330_enums': {
        const answer = answered(ctx, 'enums');
        if (answer) return text(`Elicitation completed: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`);
        const choices = (prefix, title) => [1, 2, 3].map((i) => ({ const: `${prefix}${i}`, title: `${title} ${i}` }));
        const properties = {
          untitledSingle: { type: 'string', description: 'Select one option', enum: ['option1', 'option2', 'option3'] },
          titledSingle: { type: 'string', description: 'Select one option with titles', oneOf: choices('value', 'Option') },
          legacyEnum: { type: 'string', description: 'Select one option (legacy)', enum: ['opt1', 'opt2', 'opt3'], enumNames: ['Option One', 'Option Two', 'Option Three'] },
          untitledMulti: { type: 'array', description: 'Select multiple options', minItems: 1, maxItems: 3, items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
          titledMulti: { type: 'array', description: 'Select multiple options with titles', minItems: 1, maxItems: 3, items: { anyOf: choices('value', 'Choice') } },
        };
        return inputRequired({ inputRequests: { enums: form('Please select options from the enum fields', properties, []) } });
      }
      default:
        if (name.startsWith('test_added_') && Number(name.slice('test_added_'.length)) < generation) return text(name);
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`);
    }
  });

  server.setRequestHandler('prompts/list', () => ({
    prompts: [...PROMPTS, ...Array.from({ length: promptGeneration }, (_, i) => ({ name: `test_added_prompt_${i}`, description: 'added by test_trigger_prompt_change' }))],
  }));
  server.setRequestHandler('prompts/get', async (req, ctx) => {
    const { name, arguments: args = {} } = req.params;
    const user = (content) => ({ role: 'user', content });
    switch (name) {
      case 'test_simple_prompt':
        return { messages: [user({ type: 'text', text: 'This is a simple prompt for testing.' })] };
      case 'test_prompt_with_arguments':
        return { messages: [user({ type: 'text', text: `Prompt with arguments: arg1='${args.arg1}', arg2='${args.arg2}'` })] };
      case 'test_prompt_with_embedded_resource':
        return {
          messages: [
            user({ type: 'resource', resource: { uri: args.resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } }),
            user({ type: 'text', text: 'Please process the embedded resource above.' }),
          ],
        };
      case 'test_prompt_with_image':
        return { messages: [user({ type: 'image', data: PNG, mimeType: 'image/png' }), user({ type: 'text', text: 'Please analyze the image above.' })] };
      case 'test_input_required_result_prompt': {
        const answer = answered(ctx, 'user_context');
        if (answer) return { messages: [user({ type: 'text', text: `Use this context: ${answer.content?.context ?? ''}` })] };
        return inputRequired({ inputRequests: { user_context: form('What context should the prompt use?', { context: { type: 'string' } }, ['context']) } });
      }
      default:
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${name}`);
    }
  });

  server.setRequestHandler('resources/list', () => ({
    resources: [
      { uri: 'test://static-text', name: 'static-text', mimeType: 'text/plain' },
      { uri: 'test://static-binary', name: 'static-binary', mimeType: 'image/png' },
    ],
  }));
  server.setRequestHandler('resources/templates/list', () => ({
    resourceTemplates: [{ uriTemplate: 'test://template/{id}/data', name: 'template', mimeType: 'application/json' }],
  }));
  server.setRequestHandler('resources/read', (req) => {
    const { uri } = req.params;
    if (uri === 'test://static-text') return { contents: [{ uri, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] };
    if (uri === 'test://static-binary') return { contents: [{ uri, mimeType: 'image/png', blob: PNG }] };
    const match = /^test:\/\/template\/([^/]+)\/data$/.exec(uri);
    if (match) return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify({ id: match[1], templateTest: true, data: `Data for ID: ${match[1]}` }) }] };
    throw new ResourceNotFoundError(uri);
  });

  server.setRequestHandler('completion/complete', (req) => {
    const { ref, argument } = req.params;
    const values = ref.type === 'ref/prompt' && ref.name === 'test_prompt_with_arguments' ? ['paris', 'park', 'party'].filter((v) => v.startsWith(argument.value)) : [];
    return { completion: { values, total: values.length, hasMore: false } };
  });
  return server;
}

serveStdio(newServer);

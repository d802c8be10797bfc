/**
 * The Intelligence store: documents with ranked full-text search (PostgreSQL via pg, or the embedded SQLite FTS5 store
 * on Node's built-in `node:sqlite`).
 */

export type DocumentSource = 'ingest' | 'autobuilder' | 'callback';

export interface IntelligenceDocument {
  id: string;
  title: string;
  text: string;
  url: string | null;
  tags: string[];
  source: DocumentSource;
  created_at: string;
  metadata: Record<string, unknown>;
}

export interface NewDocument {
  title: string;
  text: string;
  url?: string | null;
  tags?: string[];
  source: DocumentSource;
  metadata?: Record<string, unknown>;
  /** Optional stable id (idempotent: an existing id keeps its stored document); generated when absent. */
  id?: string;
}

export interface SearchHit {
  id: string;
  title: string;
  url: string | null;
  snippet: string;
  rank: number;
  tags: string[];
  source: DocumentSource;
  created_at: string;
}

export interface SearchQuery {
  query: string;
  limit?: number;
  tags?: string[];
  source?: DocumentSource;
  since?: string;
  until?: string;
  /** Highlighted snippets (default true); callers that show only ids and titles skip their cost. */
  snippets?: boolean;
}

/** Result of an insert-if-absent: the stored document and whether this call created it. */
export interface IngestOutcome {
  document: IntelligenceDocument;
  created: boolean;
}

export interface IntelligenceStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Stores a document. With an `id` that already exists, the stored document is returned unchanged (idempotent). */
  ingest(doc: NewDocument): Promise<IntelligenceDocument>;
  /** Like ingest, and says whether the document was created by this call (false: the id existed already). */
  ingestOnce(doc: NewDocument): Promise<IngestOutcome>;
  search(q: SearchQuery): Promise<SearchHit[]>;
  get(id: string): Promise<IntelligenceDocument | null>;
  /** Cheap health probe: database reachable and migrated. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

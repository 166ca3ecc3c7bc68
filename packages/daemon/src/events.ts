import type { EventTopic } from "@wm/protocol";

export interface BusEvent {
  seq: number;
  time: string;
  topic: EventTopic;
  type: string;
  data: Record<string, unknown>;
}

type Listener = (event: BusEvent) => void;

/** In-process fan-out of daemon events to WebSocket subscribers. */
export class EventBus {
  #seq = 0;
  #listeners = new Set<{ topics: ReadonlySet<EventTopic> | null; fn: Listener }>();

  emit(topic: EventTopic, type: string, data: Record<string, unknown> = {}): BusEvent {
    const event: BusEvent = { seq: ++this.#seq, time: new Date().toISOString(), topic, type, data };
    for (const l of this.#listeners) {
      if (l.topics === null || l.topics.has(topic)) l.fn(event);
    }
    return event;
  }

  subscribe(topics: readonly EventTopic[] | undefined, fn: Listener): () => void {
    const entry = { topics: topics && topics.length > 0 ? new Set(topics) : null, fn };
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  get subscriberCount(): number {
    return this.#listeners.size;
  }
}

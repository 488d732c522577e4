#!/usr/bin/env node
// Writes the Grafana dashboards (dashboards/*.json) from the definitions below, so panels stay
// consistent and reviewable as code. Run: node deploy/grafana/generate.mjs
// Every query uses only metrics the chat processes export (tests/integration/monitoring.test.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// Grafana's own variable syntax, not a JS template.
const ds = { type: 'prometheus', uid: '$' + '{datasource}' };
const quantile = (q, metric, by = '') =>
  `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (rate(${metric}_bucket[$__rate_interval])))`;
const p99 = (metric, by = '') => quantile(0.99, metric, by);
/** The p99 and p50 queries of a histogram, legended as such. */
const p99AndP50 = (metric) => [
  [p99(metric), 'p99'],
  [quantile(0.5, metric), 'p50'],
];

/** A time series panel: `queries` are [expr, legend] pairs. */
function panel(title, unit, queries, ...rest) {
  // A description used to be the fourth argument; fail loudly rather than drop it.
  if (rest.length > 0) throw new Error(`panel '${title}': a description goes through describedPanel(title, unit, description, queries)`);
  return {
    type: 'timeseries',
    title,
    description: '',
    datasource: ds,
    fieldConfig: { defaults: { unit, min: 0 }, overrides: [] },
    options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
    targets: queries.map(([expr, legendFormat], i) => ({ datasource: ds, expr, legendFormat, refId: String.fromCharCode(65 + i) })),
  };
}

/** A panel with a description (Grafana shows it on hovering the title): what it means, what to do. */
function describedPanel(title, unit, description, queries) {
  return { ...panel(title, unit, queries), description };
}

function dashboard(uid, title, description, rows) {
  const panels = [];
  let y = 0;
  let id = 1;
  for (const [rowTitle, rowPanels] of rows) {
    panels.push({ type: 'row', title: rowTitle, id: id++, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    rowPanels.forEach((p, i) => {
      const width = rowPanels.length === 1 ? 24 : rowPanels.length === 2 ? 12 : 8;
      panels.push({ ...p, id: id++, gridPos: { h: 8, w: width, x: (i % 3) * width, y: y + Math.floor(i / 3) * 8 } });
    });
    y += Math.ceil(rowPanels.length / 3) * 8;
  }
  return {
    uid,
    title,
    description,
    tags: ['chat'],
    timezone: 'utc',
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: '30s',
    time: { from: 'now-3h', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus', current: {} },
        {
          name: 'namespace',
          type: 'query',
          datasource: ds,
          query: 'label_values(chat_gateway_connections, namespace)',
          includeAll: true,
          multi: false,
          current: {},
        },
      ],
    },
    annotations: { list: [] },
    panels,
  };
}

// Each is written to dashboards/<uid>.json.
const dashboards = [
  dashboard('chat-gateway', 'Chat / Gateway', 'Sockets, frames, fan-out, back-pressure closes and drain, per gateway pod.', [
    [
      'Sockets',
      [
        describedPanel('Open sockets per gateway', 'short', 'The gateway HPA scales on this (8000 per pod).', [
          ['sum by (pod) (chat_gateway_connections)', '{{pod}}'],
        ]),
        panel('Subscriptions', 'short', [
          ['sum(chat_gateway_socket_subscriptions)', 'socket-room subscriptions'],
          ['sum(chat_gateway_room_subscriptions)', 'rooms with a NATS subscription'],
        ]),
        describedPanel(
          'Socket closes by code',
          'ops',
          '4009/1006: back-pressure (too slow to read); 1012: drain on shutdown; 4008: rate limit; 1009: frame too big.',
          [['sum by (code) (rate(chat_gateway_socket_closes_total[$__rate_interval]))', '{{code}}']],
        ),
      ],
    ],
    [
      'Frames and fan-out',
      [
        panel('Frames in by type', 'ops', [['sum by (type) (rate(chat_gateway_frames_in_total[$__rate_interval]))', '{{type}}']]),
        panel('Frames out (single sockets) and events fanned out', 'ops', [
          ['sum(rate(chat_gateway_frames_out_total[$__rate_interval]))', 'frames to single sockets'],
          ['sum(rate(chat_gateway_events_fanned_out_total[$__rate_interval]))', 'events fanned out (once per gateway)'],
          ['sum(rate(chat_gateway_duplicate_events_dropped_total[$__rate_interval]))', 'duplicates dropped'],
        ]),
        panel('Rate limiting', 'ops', [
          [
            'sum by (action, outcome) (rate(chat_gateway_rate_limit_total{outcome!="allowed"}[$__rate_interval]))',
            '{{action}} {{outcome}}',
          ],
        ]),
      ],
    ],
    [
      'Drain and process',
      [
        describedPanel(
          'Drain: sockets closed with 1012',
          'ops',
          'During a rollout each removed pod closes its sockets over SHUTDOWN_DRAIN_WINDOW_MS.',
          [['sum by (pod) (rate(chat_gateway_socket_closes_total{code="1012"}[$__rate_interval]))', '{{pod}}']],
        ),
        panel('Event loop lag p99', 's', [['max by (pod) (nodejs_eventloop_lag_p99_seconds{service="gateway"})', '{{pod}}']]),
        panel('CPU', 'percentunit', [['sum by (pod) (rate(process_cpu_seconds_total{service="gateway"}[$__rate_interval]))', '{{pod}}']]),
      ],
    ],
  ]),
  dashboard('chat-send-path', 'Chat / Send path', 'From the send frame to JetStream: stage latencies, batch sizes, relay lag.', [
    [
      'Latency by stage',
      [
        describedPanel(
          'message.send frame → ack',
          's',
          'Alert ChatSendLatencyHigh: p99 > 250 ms for 5 min.',
          p99AndP50('chat_gateway_send_duration_seconds'),
        ),
        panel('NATS request, client side (p99)', 's', [[p99('chat_rpc_client_duration_seconds', 'endpoint'), '{{endpoint}}']]),
        panel('NATS request, served (p99)', 's', [[p99('chat_rpc_server_duration_seconds', 'endpoint'), '{{endpoint}}']]),
      ],
    ],
    [
      'Throughput and errors',
      [
        panel('Requests served by endpoint', 'reqps', [
          ['sum by (endpoint) (rate(chat_rpc_server_duration_seconds_count[$__rate_interval]))', '{{endpoint}}'],
        ]),
        panel('Errors by endpoint and code', 'reqps', [
          ['sum by (endpoint, code) (rate(chat_rpc_server_errors_total[$__rate_interval]))', '{{endpoint}} {{code}}'],
          [
            'sum by (endpoint) (rate(chat_rpc_client_duration_seconds_count{outcome="unavailable"}[$__rate_interval]))',
            '{{endpoint}} unavailable (client)',
          ],
        ]),
        describedPanel(
          'Events published per relay batch',
          'short',
          'Batch size of the outbox relay (events per JetStream publish round).',
          [
            [
              'sum(rate(chat_outbox_published_total[$__rate_interval])) / sum(rate(chat_outbox_lag_seconds_count[$__rate_interval]))',
              'events per batch',
            ],
          ],
        ),
      ],
    ],
    [
      'Relay (commit → JetStream)',
      [
        panel('Relay lag', 's', [
          [p99('chat_outbox_lag_seconds'), 'p99 per batch'],
          ['max(chat_outbox_oldest_unpublished_seconds)', 'oldest unpublished'],
        ]),
        panel('Outbox depth', 'short', [['max(chat_outbox_depth)', 'events waiting']]),
        panel('Events published', 'ops', [['sum(rate(chat_outbox_published_total[$__rate_interval]))', 'events/s']]),
      ],
    ],
  ]),
  dashboard(
    'chat-sync-health',
    'Chat / Sync health',
    'Resuming clients, replays, resyncs and the consumers behind the read model and pushes.',
    [
      [
        'Resuming subscribers',
        [
          describedPanel(
            'Subscribes by recovery outcome',
            'ops',
            'resync: the gap was larger than REPLAY_MAX_EVENTS; the client reloads history.',
            [['sum by (outcome) (rate(chat_gateway_subscribe_recoveries_total[$__rate_interval]))', '{{outcome}}']],
          ),
          panel('Gap size on subscribe with since_seq', 'short', p99AndP50('chat_gateway_recovery_gap_events')),
          panel('Replays served', 'ops', [['sum(rate(chat_gateway_replayed_events_total[$__rate_interval]))', 'events/s']]),
          panel('Replay bytes', 'Bps', [['sum(rate(chat_gateway_replayed_bytes_total[$__rate_interval]))', 'bytes/s']]),
        ],
      ],
      [
        'JetStream consumers',
        [
          panel('Consumer lag (not yet delivered)', 'short', [
            ['max by (consumer) (chat_jetstream_consumer_pending_messages)', '{{consumer}}'],
          ]),
          panel('Delivered, not yet acked', 'short', [
            ['max by (consumer) (chat_jetstream_consumer_ack_pending_messages)', '{{consumer}}'],
          ]),
          describedPanel('Acked events per second', 'ops', 'Flat at 0 while events wait: a stuck consumer (alert ChatConsumerStuck).', [
            ['max by (consumer) (rate(chat_jetstream_consumer_ack_floor_sequence[$__rate_interval]))', '{{consumer}}'],
          ]),
        ],
      ],
    ],
  ),
  dashboard('chat-push', 'Chat / Push funnel', 'From recipients considered to deliveries accepted, per provider and outcome.', [
    [
      'Funnel',
      [
        panel('Funnel', 'ops', [
          ['sum(rate(chat_push_considered_total[$__rate_interval]))', 'considered'],
          ['sum(rate(chat_push_queued_total[$__rate_interval]))', 'queued'],
          ['sum(rate(chat_push_sent_total[$__rate_interval]))', 'sent'],
          ['sum(rate(chat_push_accepted_total[$__rate_interval]))', 'accepted'],
        ]),
        panel('Suppressed by reason', 'ops', [['sum by (reason) (rate(chat_push_suppressed_total[$__rate_interval]))', '{{reason}}']]),
        panel('Failures by provider and kind', 'ops', [
          ['sum by (platform, kind) (rate(chat_push_failed_total[$__rate_interval]))', '{{platform}} {{kind}}'],
        ]),
      ],
    ],
    [
      'Queues',
      [
        describedPanel('Queue depth', 'short', 'The notifier HPA scales on deliver/waiting (500 per worker).', [
          ['max by (queue, state) (chat_push_queue_jobs)', '{{queue}} {{state}}'],
        ]),
        panel('Accepted share by provider', 'percentunit', [
          [
            'sum by (platform) (rate(chat_push_accepted_total[$__rate_interval])) / sum by (platform) (rate(chat_push_sent_total[$__rate_interval]))',
            '{{platform}}',
          ],
        ]),
        panel('Decision consumer lag', 'short', [
          ['max by (consumer) (chat_jetstream_consumer_pending_messages{consumer=~".*_notifier"})', '{{consumer}}'],
        ]),
      ],
    ],
  ]),
  dashboard('chat-infrastructure', 'Chat / Postgres and NATS', 'The shared infrastructure as the chat processes see it.', [
    [
      'Postgres',
      [
        panel('Server connections', 'short', [
          ['max(chat_postgres_connections)', 'open'],
          ['max(chat_postgres_max_connections)', 'max_connections'],
        ]),
        describedPanel('Pool connections by service', 'short', 'waiting > 0: queries queue for a connection.', [
          ['sum by (service, pool, state) (chat_db_pool_connections)', '{{service}} {{pool}} {{state}}'],
        ]),
        panel('Oldest unpublished outbox event', 's', [['max(chat_outbox_oldest_unpublished_seconds)', 'age']]),
      ],
    ],
    [
      'NATS',
      [
        panel('Messages to and from NATS', 'ops', [
          ['sum by (service) (rate(chat_nats_client_messages_out_total[$__rate_interval]))', '{{service}} out'],
          ['sum by (service) (rate(chat_nats_client_messages_in_total[$__rate_interval]))', '{{service}} in'],
        ]),
        panel('Bytes to and from NATS', 'Bps', [
          ['sum by (service) (rate(chat_nats_client_bytes_out_total[$__rate_interval]))', '{{service}} out'],
          ['sum by (service) (rate(chat_nats_client_bytes_in_total[$__rate_interval]))', '{{service}} in'],
        ]),
        describedPanel('JetStream answering', 'short', '0: consumer info unanswered (no stream leader, lost quorum, NATS down).', [
          ['min by (consumer) (chat_jetstream_consumer_info_up)', '{{consumer}}'],
        ]),
      ],
    ],
  ]),
];

mkdirSync(join(here, 'dashboards'), { recursive: true });
for (const body of dashboards) {
  writeFileSync(join(here, 'dashboards', `${body.uid}.json`), `${JSON.stringify(body, null, 2)}\n`);
}
console.log(`wrote ${dashboards.length} dashboards to ${join(here, 'dashboards')}`);

// Models: what /v1/models lists, with the capabilities Capa reports, and which areas this server serves.
import { h } from '../dom.js';

export default {
  id: 'models',
  title: 'Models',
  available: () => true,
  create(ctx) {
    const rows = ctx.models.map(m => h('tr', { dataset: { model: m.id } },
      h('td', {}, h('code', { text: m.id })),
      h('td', { text: m.capabilities ? m.capabilities.join(', ') : 'unknown' }),
      h('td', { text: m.ownedBy ?? '' }),
      h('td', { text: m.created ? new Date(m.created * 1000).toISOString().slice(0, 10) : '' })));
    const areas = Object.entries(ctx.features.areas ?? {}).map(([area, how]) =>
      h('tr', { dataset: { area } }, h('td', { text: area }), h('td', { text: how === 'local' ? 'served here' : how === 'upstream' ? 'forwarded upstream' : 'not available' })));
    return h('div', {},
      h('h2', { text: 'Models' }),
      h('table', { class: 'runs' },
        h('thead', {}, h('tr', {}, ['Model', 'Capabilities', 'Owner', 'Created'].map(t => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, rows)),
      h('p', { class: 'muted', text: 'Add models with `capa pull ORG/NAME`; remove them with `capa rm`.' }),
      h('h2', { text: 'API areas' }),
      h('table', { class: 'runs' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Area' }), h('th', { scope: 'col', text: 'This server' }))),
        h('tbody', {}, areas)));
  },
};

"""The page's stylesheet and its scripts: citation clicks open the article, its highlight is scrolled into view."""

CSS = """
.vb-hidden { display: none !important; }
.vb-answer blockquote { margin: 0 0 .5em 0; padding: .4em .8em; border-left: 4px solid #2563eb; background: #eff6ff;
  color: #111827; border-radius: 4px; overflow-wrap: anywhere; }
.vb-answer mark, .vb-article mark { background: #fde047; color: #111827; padding: 0 .1em; border-radius: 2px; }
.vb-meta { font-size: .85em; color: #4b5563; margin: .2em 0; }
.vb-context { font-size: .8em; color: #6b7280; font-style: italic; margin-bottom: .3em; }
.vb-chip { display: inline-block; margin: .15em .3em .15em 0; padding: .15em .6em; border-radius: 999px;
  border: 1px solid #2563eb; color: #1d4ed8 !important; background: #fff; cursor: pointer; font-size: .85em;
  text-decoration: none !important; max-width: 100%; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.vb-chip:hover { background: #dbeafe; }
.vb-differ ul { margin: .3em 0 0 1.1em; padding: 0; } .vb-differ li { margin: .15em 0; }
.vb-abstain { border-left: 4px solid #d97706; background: #fffbeb; color: #111827; padding: .4em .8em; border-radius: 4px; }
.vb-abstain ul { margin: .3em 0 0 1em; padding: 0; }
.vb-tentative { border: 2px dashed #b45309; border-radius: 6px; padding: .4em .6em; }
.vb-tentative blockquote { border-left: 4px dashed #6b7280; background: #f3f4f6; }
.vb-state { font-weight: 600; color: #92400e; margin-bottom: .3em; }
.dark .vb-answer blockquote { background: #172554; color: #f3f4f6; border-left-color: #60a5fa; }
.dark .vb-tentative { border-color: #f59e0b; }
.dark .vb-tentative blockquote { background: #374151; color: #f3f4f6; border-left-color: #9ca3af; }
.dark .vb-state { color: #fcd34d; }
.dark .vb-abstain { background: #451a03; color: #fef3c7; border-left-color: #f59e0b; }
.dark .vb-meta { color: #d1d5db; }
.dark .vb-context { color: #9ca3af; }
.dark .vb-chip { background: #1f2937; color: #93c5fd !important; border-color: #60a5fa; }
.dark .vb-chip:hover { background: #1e3a8a; }
.vb-passage { border: 1px solid #e5e7eb; border-radius: 6px; padding: .5em .7em; margin-bottom: .5em; cursor: pointer;
  color: inherit; overflow-wrap: anywhere; }
.vb-passage:hover { border-color: #2563eb; }
.vb-passage .vb-meta { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 0 .5em; }
.vb-article { white-space: pre-wrap; overflow-wrap: anywhere; max-height: 65vh; overflow-y: auto; line-height: 1.5;
  padding: .6em; border: 1px solid #e5e7eb; border-radius: 6px; }
.vb-article h3 { white-space: normal; margin-top: 0; }
.vb-article-head { position: sticky; top: -.6em; margin: -.6em -.6em 0; padding: .6em .6em .3em; z-index: 1;
  background: var(--block-background-fill, #fff); border-bottom: 1px solid #e5e7eb; white-space: normal; }
.dark .vb-article-head { background: var(--block-background-fill, #111827); border-bottom-color: #374151; }
.vb-headline { font-weight: 600; margin: .2em 0 0; }
.vb-dateline { font-size: .85em; color: #4b5563; margin: 0; }
.vb-excerpt { margin-top: .3em; line-height: 1.45; }
.vb-excerpt mark { background: #fde047; color: #111827; padding: 0 .1em; border-radius: 2px; }
q.vb-q-open::before, q.vb-q-close::after { content: none; }
.dark .vb-dateline { color: #d1d5db; }
.dark .vb-abstain strong, .dark .vb-abstain li { color: #fef3c7; }
#vb-ask, #vb-new { white-space: normal; overflow-wrap: break-word; line-height: 1.2; }
#vb-library table, #vb-library td, #vb-library th, #vb-library span, #vb-library button {
  font-family: var(--font, ui-sans-serif, system-ui, sans-serif) !important; }
#vb-library th, #vb-library th * { overflow-wrap: normal !important; word-break: keep-all !important; hyphens: none; }
@media (max-width: 640px) {
  #vb-main { flex-direction: column !important; flex-wrap: nowrap !important; }
  #vb-chat-column { display: contents !important; }
  #vb-chat { order: 1; }
  #vb-ask-row { order: 2; }
  #vb-panels { order: 3; width: 100% !important; }
  #vb-examples { order: 4; }
  #vb-settings { order: 5; }
  #vb-ask-row > .form:has(#vb-question), #vb-question { flex: 1 1 100% !important; min-width: 100% !important; }
  #vb-ask, #vb-new { flex: 1 1 40% !important; min-width: 0 !important; }
  #vb-library table { font-size: 13px !important; }
  #vb-library .cell-wrap { padding-left: 2px !important; padding-right: 2px !important; }
  #vb-library th, #vb-library td { padding-left: 3px !important; padding-right: 3px !important; }
}
"""

# Clicks on citation chips and passages put "source|start|end" into a hidden box and press a hidden
# button, so the server renders that article beside the chat; then the highlight is scrolled into view.
JS = """
() => {
  document.addEventListener('click', (event) => {
    const chip = event.target.closest('[data-vb-target]');
    if (!chip) return;
    event.preventDefault();
    const box = document.querySelector('#vb-open-target textarea, #vb-open-target input');
    box.value = chip.dataset.vbTarget;
    box.dispatchEvent(new Event('input', { bubbles: true }));
    setTimeout(() => document.querySelector('#vb-open-button').click(), 60);
  });
}
"""
SCROLL_TO_HIGHLIGHT = """
() => {
  setTimeout(() => {
    const hit = document.querySelector('#vb-hit');
    const panel = hit?.closest('.vb-article');
    if (!panel) return;
    const head = panel.querySelector('.vb-article-head');  // the title and outlet stay at the top
    const covered = head ? head.offsetHeight : 0;
    panel.scrollTop = hit.offsetTop - panel.offsetTop - covered - (panel.clientHeight - covered) / 3;
    const box = hit.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) {
      // a narrow screen: the Article tab is below the chat; bring it up, its highlight in view
      const tabs = panel.closest('.tabs') || panel;
      tabs.scrollIntoView({ block: 'start' });
      const again = hit.getBoundingClientRect();
      if (again.top < 0 || again.bottom > window.innerHeight) hit.scrollIntoView({ block: 'center' });
    }
  }, 150);
}
"""

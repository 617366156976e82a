import htm from 'htm';
import { h, type VNode } from 'preact';

/** JSX-like templates without a compiler: html`<div class=${c}>…</div>`. */
export const html = htm.bind(h) as unknown as (strings: TemplateStringsArray, ...values: unknown[]) => VNode;

"""The human-readable pages of an evidence bundle: README.txt and index.html.

Both are made from the manifest, say what each file is and how to check the bundle by hand
with common tools (sha256sum, openssl). They are for reading: the proof is in the other files.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vigil.evidence.bundle import Manifest, ManifestItem


def _what(item: ManifestItem) -> str:
    listing = (
        f" of {item.listing.platform} listing {item.listing.listing_id}" if item.listing else ""
    )
    names = {
        "listing_snapshot": f"snapshot{listing} as assessed",
        "signals": f"signals{listing} at capture time",
        "image": f"photo{listing}",
        "attachment": "attached file",
    }
    what = names.get(item.kind, item.kind)
    if item.name:
        what += f" ({item.name})"
    return what


HOW_TO_CHECK = """\
HOW TO CHECK IT

With Vigil (offline, nothing else needed):

    vigil evidence verify {bundle} --key PUBLISHED_KEY.pem

--key is the log's public key as its operator publishes it; without it the bundled key is
checked only against itself. Exit status 0 means every check passed; otherwise every failure
is listed with the file it concerns.

By hand, for one item (folder F = items/NNNNNN-kind):

1. The content is what the log entry names:
       sha256sum F/content.*
   must print the "sha256" of F/entry.json (and of the manifest).

2. The entry's leaf hash, SHA-256(0x00 || entry bytes):
       (printf '\\000'; cat F/entry.json) | sha256sum
   must print the "leaf_hash" of F/proof.json. entry.json is used byte for byte as it is in
   the archive (canonical JSON, RFC 8785, no final newline).

3. The audit path leads from the leaf to the root. Start with running = leaf_hash; for each
   step of "audit_path" in F/proof.json, in order:
       side "left":  running = SHA-256(0x01 || step.hash || running)
       side "right": running = SHA-256(0x01 || running || step.hash)
   (all hashes as their 32 raw bytes). With xxd, one step is e.g.
       (printf '\\001'; echo STEP_HASH | xxd -r -p; echo RUNNING | xxd -r -p) | sha256sum
   The last value must be the "root" of proof.json, which is the root of log/tree_head.json
   (base64 there: echo ROOT_BASE64 | base64 -d | xxd -p -c 64).

4. The tree head is signed by the log's key. The signed message is 50 bytes: 0x00, 0x01, the
   timestamp in milliseconds since 1970 as 8 bytes big-endian, the tree size as 8 bytes
   big-endian, the 32-byte root (RFC 6962 section 3.5); log/tree_head.message.bin holds those
   bytes (compare them with tree_head.json) and log/tree_head.signature.bin the signature:
       openssl pkeyutl -verify -pubin -inkey log/public_key.pem -rawin \\
           -in log/tree_head.message.bin -sigfile log/tree_head.signature.bin

5. The key is the log's key: its id (the tree head's "key_id") is the SHA-256 of the raw
   32-byte public key:
       openssl pkey -pubin -in log/public_key.pem -outform DER | tail -c 32 | sha256sum
   Compare it with the key the log's operator publishes.

The manifest and these pages are a table of contents; they prove nothing by themselves.
"""


def readme_text(manifest: Manifest) -> str:
    """README.txt: the bundle in plain text."""
    log = manifest.log
    lines = [
        f"EVIDENCE BUNDLE FOR CASE {manifest.case.reference}",
        "",
        f"Case:        {manifest.case.reference}: {manifest.case.title}",
        f"Exported:    {manifest.exported_at} by {manifest.exported_by}",
        f"Items:       {len(manifest.items)}",
        f"Tree head:   size {log.tree_size}, root {log.root}",
        f"Log key id:  {log.key_id}",
        "",
        "Every item of the case's evidence is here with its entry in Vigil's transparency log",
        "(an append-only Merkle tree of RFC 6962 / RFC 9162 form) and the proof that the entry",
        "is in the tree whose root the log signed with Ed25519.",
        "",
        "WHAT IS IN IT",
        "",
        "    manifest.json          machine-readable table of contents",
        "    log/tree_head.json     the signed tree head (size, root, time, signature, key id)",
        "    log/public_key.pem     the log's Ed25519 public key",
        "    log/tree_head.message.bin, log/tree_head.signature.bin",
        "                           the bytes the signature covers, and the signature",
        "    items/NNNNNN-kind/     one folder per item, NNNNNN being its index in the log:",
        "        content.EXT        the item's bytes",
        "        entry.json         its log entry: case, digest, kind, size, listing, time",
        "        proof.json         its inclusion proof (audit path) against the tree head",
        "",
        "ITEMS",
        "",
    ]
    for item in manifest.items:
        lines.append(f"    {item.folder}/")
        lines.append(f"        {_what(item)}")
        lines.append(f"        {item.media_type}, {item.size:,} bytes, captured {item.captured_at}")
        lines.append(f"        sha256 {item.sha256}")
    lines.append("")
    lines.append(HOW_TO_CHECK.format(bundle="THIS_FILE.zip"))
    return "\n".join(lines)


_STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;"
    "padding:.3em .5em;text-align:left;vertical-align:top}code,pre{font-size:13px}"
    "pre{background:#f4f4f4;padding:1em;overflow-x:auto}"
)


def index_html(manifest: Manifest) -> str:
    """index.html: the same as README.txt, with links to each item's files."""
    log = manifest.log
    rows = []
    for item in manifest.items:
        links = " · ".join(
            f'<a href="{escape(path)}">{label}</a>'
            for label, path in (
                ("content", item.content),
                ("entry", item.entry),
                ("proof", item.proof),
            )
        )
        rows.append(
            "<tr>"
            f"<td>{item.log_index}</td><td>{escape(_what(item))}</td>"
            f"<td>{escape(item.media_type)}<br>{item.size:,} bytes</td>"
            f"<td>{escape(item.captured_at)}</td>"
            f"<td><code>{escape(item.sha256)}</code></td><td>{links}</td>"
            "</tr>"
        )
    case = manifest.case
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Evidence bundle: {escape(case.reference)}</title>"
        f"<style>{_STYLE}</style></head><body>\n"
        f"<h1>Evidence bundle for case {escape(case.reference)}</h1>\n"
        f"<p>{escape(case.title)}</p>\n"
        f"<p>Exported {escape(manifest.exported_at)} by {escape(manifest.exported_by)}. "
        f"{len(manifest.items)} item(s), each with its entry in Vigil's transparency log and "
        "the proof that the entry is in the tree the log signed.</p>\n"
        f"<p>Tree head: size {log.tree_size}, root <code>{escape(log.root)}</code>, signed by "
        f'key <code>{escape(log.key_id)}</code> (<a href="{escape(log.public_key)}">public '
        f'key</a>, <a href="{escape(log.tree_head)}">tree head</a>, '
        '<a href="manifest.json">manifest</a>).</p>\n'
        "<table><thead><tr><th>log index</th><th>item</th><th>type</th><th>captured</th>"
        "<th>SHA-256</th><th>files</th></tr></thead><tbody>\n"
        + "\n".join(rows)
        + "\n</tbody></table>\n<h2>How to check it</h2>\n<pre>"
        + escape(HOW_TO_CHECK.format(bundle="THIS_FILE.zip"))
        + "</pre>\n</body></html>\n"
    )

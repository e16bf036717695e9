//! Writing markup: raw tags, and text escaped for HTML.

/// Escapes `s` for HTML text and quoted attribute values.
///
/// # Examples
/// ```
/// use imgcluster::report::html::escape;
/// assert_eq!(escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
///            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
/// ```
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_escaped(&mut out, s);
    out
}

fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}
/// The document being written: raw markup or escaped text.
#[derive(Default)]
pub(super) struct Html(pub(super) String);

impl Html {
    pub(super) fn raw(&mut self, s: &str) {
        self.0.push_str(s);
    }

    pub(super) fn text(&mut self, s: &str) {
        push_escaped(&mut self.0, s);
    }
}

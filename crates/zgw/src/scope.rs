//! Scope expressions (domain C3 rule 11): a scope label, an OR of expressions, or an AND.
//!
//! Text form: `a`, `a | b`, `a & (b | c)`. `&` binds tighter than `|`, so `a | b & c` is
//! `a | (b & c)`. Parentheses group. Labels are 1–100 characters of ASCII letters, digits and
//! `. _ - : /` (`zaken.geforceerd-bijwerken`, `zds.scopes.zaken.lezen`); whitespace between
//! tokens is ignored. `()` is the expression that is never satisfied (see [`ScopeExpr::never`]).
//!
//! Fail closed: an empty [`ScopeExpr::Any`] *and* an empty [`ScopeExpr::All`] are never
//! satisfied. (Logic would make an empty AND true; here a hand-built `All(vec![])` must not
//! become "allow everything".)

use std::fmt;

use crate::error::ZgwError;

/// Longest label accepted (the Autorisaties API allows scopes of 1–100 characters).
pub const MAX_LABEL_LEN: usize = 100;
/// Deepest parenthesis nesting accepted by [`ScopeExpr::parse`].
pub const MAX_DEPTH: usize = 32;
/// Longest text accepted by [`ScopeExpr::parse`], in characters.
pub const MAX_TEXT_LEN: usize = 4096;

/// A scope expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ScopeExpr {
    /// One scope label, satisfied when it is held.
    Scope(String),
    /// Satisfied when any child is (never when empty).
    Any(Vec<ScopeExpr>),
    /// Satisfied when every child is (never when empty).
    All(Vec<ScopeExpr>),
}

impl ScopeExpr {
    /// Parses the text form (see the module documentation).
    ///
    /// # Errors
    /// [`ZgwError::ScopeSyntax`] with the character offset and what was expected there.
    pub fn parse(text: &str) -> Result<ScopeExpr, ZgwError> {
        let chars: Vec<char> = text.chars().collect();
        if chars.len() > MAX_TEXT_LEN {
            return Err(syntax(
                MAX_TEXT_LEN,
                format!("longer than {MAX_TEXT_LEN} characters"),
            ));
        }
        let mut p = Parser { chars, pos: 0 };
        let expr = p.expr(0)?;
        p.skip_ws();
        match p.peek() {
            None => Ok(expr),
            Some(')') => Err(syntax(p.pos, "unmatched ')'".into())),
            Some(_) => Err(syntax(p.pos, "expected '|', '&' or the end".into())),
        }
    }

    /// A single label (not checked against the label syntax; use [`ScopeExpr::parse`] for
    /// untrusted text).
    pub fn scope(label: impl Into<String>) -> ScopeExpr {
        ScopeExpr::Scope(label.into())
    }

    /// The expression no set of scopes satisfies (`Any` of nothing; displayed as `()`). It is
    /// what an operation without a declared scope requires (C3 rule 13: denied).
    pub fn never() -> ScopeExpr {
        ScopeExpr::Any(Vec::new())
    }

    /// True when no set of scopes can satisfy this expression: [`ScopeExpr::never`], an empty
    /// `All`, or a combination where the structure alone rules it out.
    pub fn is_never(&self) -> bool {
        match self {
            ScopeExpr::Scope(_) => false,
            ScopeExpr::Any(children) => children.iter().all(ScopeExpr::is_never),
            ScopeExpr::All(children) => {
                children.is_empty() || children.iter().any(ScopeExpr::is_never)
            }
        }
    }

    /// Whether the scopes for which `has` returns true satisfy the expression.
    pub fn satisfied(&self, has: &dyn Fn(&str) -> bool) -> bool {
        match self {
            ScopeExpr::Scope(label) => has(label),
            ScopeExpr::Any(children) => children.iter().any(|c| c.satisfied(has)),
            ScopeExpr::All(children) => {
                !children.is_empty() && children.iter().all(|c| c.satisfied(has))
            }
        }
    }

    /// Whether both expressions are satisfied by exactly the same sets of scopes (decided by
    /// truth table over the labels involved). With more than 16 distinct labels between them
    /// that would be too costly, and the answer is structural equality instead (which may say
    /// false for equivalent expressions, never true for different ones).
    pub fn equivalent(&self, other: &ScopeExpr) -> bool {
        let mut labels = self.labels();
        for l in other.labels() {
            if !labels.contains(&l) {
                labels.push(l);
            }
        }
        if labels.len() > 16 {
            return self == other;
        }
        (0u32..(1 << labels.len())).all(|bits| {
            let has = |l: &str| {
                labels
                    .iter()
                    .position(|x| *x == l)
                    .is_some_and(|i| bits & (1 << i) != 0)
            };
            self.satisfied(&has) == other.satisfied(&has)
        })
    }

    /// Every label in the expression, each once, in order of first appearance.
    pub fn labels(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_labels(&mut out);
        out
    }

    fn collect_labels<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            ScopeExpr::Scope(label) => {
                if !out.contains(&label.as_str()) {
                    out.push(label);
                }
            }
            ScopeExpr::Any(children) | ScopeExpr::All(children) => {
                for c in children {
                    c.collect_labels(out);
                }
            }
        }
    }

    /// `self | other`, flattening nested ORs. `never().or(x)` is `x`.
    pub fn or(self, other: ScopeExpr) -> ScopeExpr {
        let mut children = Vec::new();
        for e in [self, other] {
            match e {
                ScopeExpr::Any(inner) => children.extend(inner),
                e => children.push(e),
            }
        }
        if children.len() == 1 {
            children.pop().unwrap_or_else(ScopeExpr::never)
        } else {
            ScopeExpr::Any(children)
        }
    }

    /// `self & other`, flattening nested ANDs. A never-satisfied operand stays never satisfied.
    pub fn and(self, other: ScopeExpr) -> ScopeExpr {
        let mut children = Vec::new();
        for e in [self, other] {
            match e {
                ScopeExpr::All(inner) if !inner.is_empty() => children.extend(inner),
                e => children.push(e),
            }
        }
        ScopeExpr::All(children)
    }
}

impl fmt::Display for ScopeExpr {
    /// The text form, parseable by [`ScopeExpr::parse`] into an equivalent expression.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScopeExpr::Scope(label) => f.write_str(label),
            ScopeExpr::Any(children) | ScopeExpr::All(children) if children.is_empty() => {
                f.write_str("()")
            }
            ScopeExpr::Any(children) => join(f, children, " | ", false),
            ScopeExpr::All(children) => join(f, children, " & ", true),
        }
    }
}

fn join(
    f: &mut fmt::Formatter<'_>,
    children: &[ScopeExpr],
    sep: &str,
    in_and: bool,
) -> fmt::Result {
    for (i, c) in children.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        // Inside an AND an OR needs parentheses; an AND inside an OR does not (it binds
        // tighter), but nested same-kind lists are written grouped to keep their shape.
        let group = match c {
            ScopeExpr::Scope(_) => false,
            ScopeExpr::Any(ch) | ScopeExpr::All(ch) if ch.is_empty() => false,
            ScopeExpr::Any(ch) => in_and || ch.len() > 1,
            ScopeExpr::All(_) => in_and,
        };
        if group {
            write!(f, "({c})")?;
        } else {
            write!(f, "{c}")?;
        }
    }
    Ok(())
}

fn syntax(at: usize, message: String) -> ZgwError {
    ZgwError::ScopeSyntax { at, message }
}

/// Whether `c` may appear in a label.
pub fn is_label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '/')
}

/// Whether `s` is a valid label (1–100 label characters).
pub fn is_label(s: &str) -> bool {
    !s.is_empty() && s.chars().count() <= MAX_LABEL_LEN && s.chars().all(is_label_char)
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// expr := term ('|' term)*
    fn expr(&mut self, depth: usize) -> Result<ScopeExpr, ZgwError> {
        self.separated(depth, '|', Self::term)
    }

    /// term := factor ('&' factor)*
    fn term(&mut self, depth: usize) -> Result<ScopeExpr, ZgwError> {
        self.separated(depth, '&', Self::factor)
    }

    /// `item (sep item)*`, collapsed into an OR (`|`) or AND (`&`).
    fn separated(
        &mut self,
        depth: usize,
        sep: char,
        item: fn(&mut Self, usize) -> Result<ScopeExpr, ZgwError>,
    ) -> Result<ScopeExpr, ZgwError> {
        let mut children = vec![item(self, depth)?];
        loop {
            self.skip_ws();
            if self.peek() != Some(sep) {
                break;
            }
            self.pos += 1;
            children.push(item(self, depth)?);
        }
        Ok(collapse(children, sep == '|'))
    }

    /// factor := label | '(' expr ')' | '(' ')'
    fn factor(&mut self, depth: usize) -> Result<ScopeExpr, ZgwError> {
        self.skip_ws();
        match self.peek() {
            Some('(') => {
                if depth >= MAX_DEPTH {
                    return Err(syntax(
                        self.pos,
                        format!("parentheses nested deeper than {MAX_DEPTH}"),
                    ));
                }
                self.pos += 1;
                self.skip_ws();
                if self.peek() == Some(')') {
                    self.pos += 1;
                    return Ok(ScopeExpr::never());
                }
                let inner = self.expr(depth + 1)?;
                self.skip_ws();
                if self.peek() == Some(')') {
                    self.pos += 1;
                    Ok(inner)
                } else {
                    Err(syntax(self.pos, "expected ')'".into()))
                }
            }
            Some(c) if is_label_char(c) => {
                let start = self.pos;
                while self.peek().is_some_and(is_label_char) {
                    self.pos += 1;
                }
                let label: String = self
                    .chars
                    .get(start..self.pos)
                    .unwrap_or_default()
                    .iter()
                    .collect();
                if label.chars().count() > MAX_LABEL_LEN {
                    return Err(syntax(
                        start,
                        format!("a scope label longer than {MAX_LABEL_LEN} characters"),
                    ));
                }
                Ok(ScopeExpr::Scope(label))
            }
            None => Err(syntax(
                self.pos,
                "expected a scope label or '(' but the text ended".into(),
            )),
            Some(_) => Err(syntax(
                self.pos,
                "expected a scope label (letters, digits, '.', '_', '-', ':', '/') or '('".into(),
            )),
        }
    }
}

/// One child stays itself; several become an `Any` (`is_any`) or `All`, with nested lists of
/// the same kind flattened (`(a | b) | c` is `a | b | c`).
fn collapse(mut children: Vec<ScopeExpr>, is_any: bool) -> ScopeExpr {
    if children.len() == 1
        && let Some(only) = children.pop()
    {
        return only;
    }
    let mut flat = Vec::with_capacity(children.len());
    for c in children {
        match c {
            ScopeExpr::Any(inner) if is_any && !inner.is_empty() => flat.extend(inner),
            ScopeExpr::All(inner) if !is_any && !inner.is_empty() => flat.extend(inner),
            c => flat.push(c),
        }
    }
    if is_any {
        ScopeExpr::Any(flat)
    } else {
        ScopeExpr::All(flat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ScopeExpr {
        ScopeExpr::parse(s).unwrap()
    }

    fn s(l: &str) -> ScopeExpr {
        ScopeExpr::scope(l)
    }

    fn holds<'a>(set: &'a [&'a str]) -> impl Fn(&str) -> bool + 'a {
        move |l| set.contains(&l)
    }

    #[test]
    fn parses_labels_or_and_and_groups() {
        assert_eq!(p("zaken.lezen"), s("zaken.lezen"));
        assert_eq!(p(" a |b "), ScopeExpr::Any(vec![s("a"), s("b")]));
        assert_eq!(p("(a | b)"), ScopeExpr::Any(vec![s("a"), s("b")]));
        assert_eq!(
            p("a & (b | c)"),
            ScopeExpr::All(vec![s("a"), ScopeExpr::Any(vec![s("b"), s("c")])])
        );
        assert_eq!(
            p("(a | b) | c"),
            ScopeExpr::Any(vec![s("a"), s("b"), s("c")])
        );
        assert_eq!(p("((a))"), s("a"));
        assert_eq!(p("()"), ScopeExpr::never());
    }

    #[test]
    fn and_binds_tighter_than_or() {
        assert_eq!(
            p("a | b & c"),
            ScopeExpr::Any(vec![s("a"), ScopeExpr::All(vec![s("b"), s("c")])])
        );
        assert_eq!(
            p("a & b | c"),
            ScopeExpr::Any(vec![ScopeExpr::All(vec![s("a"), s("b")]), s("c")])
        );
        let e = p("a | b & c");
        assert!(e.satisfied(&holds(&["a"])));
        assert!(!e.satisfied(&holds(&["b"])));
        assert!(e.satisfied(&holds(&["b", "c"])));
    }

    #[test]
    fn the_oas_forms_parse() {
        for text in [
            "(zaken.bijwerken | zaken.geforceerd-bijwerken)",
            "(zaken.aanmaken | zaken.statussen.toevoegen | zaken.heropenen)",
            "(documenten.lock | documenten.geforceerd-unlock)",
            "zds.scopes.zaken.lezen",
            "audittrails.lezen",
        ] {
            let e = p(text);
            assert_eq!(p(&e.to_string()), e, "{text}");
        }
    }

    #[test]
    fn syntax_errors_say_where_and_what() {
        let cases = [
            ("", 0, "text ended"),
            ("a |", 3, "text ended"),
            ("a b", 2, "expected '|', '&' or the end"),
            ("(a", 2, "expected ')'"),
            ("a)", 1, "unmatched ')'"),
            ("a | !b", 4, "expected a scope label"),
            ("a || b", 3, "expected a scope label"),
        ];
        for (text, at, msg) in cases {
            match ScopeExpr::parse(text) {
                Err(ZgwError::ScopeSyntax { at: got, message }) => {
                    assert_eq!(got, at, "{text:?}: {message}");
                    assert!(message.contains(msg), "{text:?}: {message}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
        let err = ScopeExpr::parse("a |").unwrap_err().to_string();
        assert!(
            err.starts_with("scope expression, at character 3:"),
            "{err}"
        );
    }

    #[test]
    fn limits_are_enforced() {
        assert!(ScopeExpr::parse(&"x".repeat(MAX_LABEL_LEN)).is_ok());
        assert!(ScopeExpr::parse(&"x".repeat(MAX_LABEL_LEN + 1)).is_err());
        let deep = format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(ScopeExpr::parse(&deep).unwrap(), s("a"));
        let deeper = format!(
            "{}a{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert!(ScopeExpr::parse(&deeper).is_err());
        assert!(ScopeExpr::parse(&"a|".repeat(MAX_TEXT_LEN)).is_err());
    }

    #[test]
    fn empty_lists_are_never_satisfied() {
        let all_true = |_: &str| true;
        assert!(!ScopeExpr::never().satisfied(&all_true));
        assert!(!ScopeExpr::All(vec![]).satisfied(&all_true));
        assert!(ScopeExpr::never().is_never());
        assert!(ScopeExpr::All(vec![]).is_never());
        assert!(ScopeExpr::All(vec![s("a"), ScopeExpr::never()]).is_never());
        assert!(!p("a | ()").is_never());
        assert!(!p("a | ()").satisfied(&holds(&[])));
        assert!(p("a | ()").satisfied(&holds(&["a"])));
        assert_eq!(ScopeExpr::never().to_string(), "()");
        assert_eq!(ScopeExpr::All(vec![]).to_string(), "()");
        assert!(p(&ScopeExpr::All(vec![]).to_string()).is_never());
    }

    #[test]
    fn equivalence_is_semantic() {
        assert!(p("a | b").equivalent(&p("b | a")));
        assert!(p("a & (b | c)").equivalent(&p("a & b | a & c")));
        assert!(p("a | a & b").equivalent(&s("a")));
        assert!(!p("a | b").equivalent(&p("a & b")));
        assert!(ScopeExpr::never().equivalent(&ScopeExpr::All(vec![])));
        assert!(!ScopeExpr::never().equivalent(&s("a")));
        let wide: Vec<String> = (0..17).map(|i| format!("s{i}")).collect();
        let wide = p(&wide.join(" | "));
        assert!(wide.equivalent(&wide.clone()));
    }

    #[test]
    fn labels_are_unique_in_order() {
        assert_eq!(p("b & (a | b) | c & a").labels(), ["b", "a", "c"]);
        assert!(ScopeExpr::never().labels().is_empty());
    }

    #[test]
    fn or_and_and_flatten() {
        assert_eq!(s("a").or(s("b")).or(s("c")), p("a | b | c"));
        assert_eq!(ScopeExpr::never().or(s("a")), s("a"));
        assert_eq!(s("a").and(s("b")).and(s("c")), p("a & b & c"));
        assert!(s("a").and(ScopeExpr::All(vec![])).is_never());
        assert_eq!(p("a & b").or(s("c")).to_string(), "a & b | c");
        assert_eq!(p("a | b").and(s("c")).to_string(), "(a | b) & c");
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "a",
            "a | b",
            "a & b",
            "a & (b | c)",
            "a | b & c",
            "(a | b) & (c | d & e)",
        ] {
            let e = p(text);
            assert_eq!(p(&e.to_string()), e, "{text}");
        }
        // Hand-built nesting that parse would flatten still round-trips semantically.
        let nested = ScopeExpr::Any(vec![ScopeExpr::Any(vec![s("a"), s("b")]), s("c")]);
        assert_eq!(nested.to_string(), "(a | b) | c");
        assert_eq!(p(&nested.to_string()), p("a | b | c"));
    }
}

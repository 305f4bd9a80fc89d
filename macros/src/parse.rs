//! Hand parsing of the attribute arguments and of the `async fn` item.

use proc_macro::{Delimiter, Group, Span, TokenStream, TokenTree};

/// A parse failure: a message and where to point it.
pub(crate) struct Error {
    pub(crate) span: Span,
    pub(crate) msg: String,
}

fn err<T>(span: Span, msg: impl Into<String>) -> Result<T, Error> {
    Err(Error {
        span,
        msg: msg.into(),
    })
}

/// The attribute's arguments.
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) worker_threads: Option<usize>,
    /// `flavor = "current_thread"`.
    pub(crate) current_thread: bool,
}

/// Parses `name = value, ...`.
pub(crate) fn args(attr: &str, args: TokenStream) -> Result<Args, Error> {
    let mut out = Args::default();
    let mut flavor_seen = false;
    // Where `worker_threads` was given, to point at it if the flavor is
    // current-thread (which has no workers).
    let mut workers_span = None;
    let tokens: Vec<TokenTree> = args.into_iter().collect();
    for arg in tokens.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ',')) {
        let (key, value) = match arg {
            [] => continue, // a trailing comma
            [TokenTree::Ident(key), TokenTree::Punct(eq), TokenTree::Literal(value)]
                if eq.as_char() == '=' =>
            {
                (key, value)
            }
            [first, ..] => {
                return err(
                    first.span(),
                    format!("`{attr}` expects arguments of the form `name = value`"),
                )
            }
        };
        match key.to_string().as_str() {
            "worker_threads" => {
                if out.worker_threads.is_some() {
                    return err(key.span(), "`worker_threads` is given twice");
                }
                let text = value.to_string().replace('_', "");
                let digits = text.strip_suffix("usize").unwrap_or(&text);
                match digits.parse::<usize>() {
                    Ok(0) => return err(value.span(), "`worker_threads` must be at least 1"),
                    Ok(n) => {
                        out.worker_threads = Some(n);
                        workers_span = Some(key.span());
                    }
                    Err(_) => {
                        return err(value.span(), "`worker_threads` must be an integer literal")
                    }
                }
            }
            "flavor" => {
                if flavor_seen {
                    return err(key.span(), "`flavor` is given twice");
                }
                flavor_seen = true;
                match value.to_string().as_str() {
                    "\"multi_thread\"" => {}
                    "\"current_thread\"" => out.current_thread = true,
                    _ => {
                        return err(
                            value.span(),
                            "unknown `flavor`: expected `\"multi_thread\"` or \
                             `\"current_thread\"`",
                        )
                    }
                }
            }
            other => {
                return err(
                    key.span(),
                    format!(
                        "unknown argument `{other}` to `{attr}`: expected \
                         `worker_threads = N` or `flavor = \"multi_thread\"` / \
                         `flavor = \"current_thread\"`"
                    ),
                )
            }
        }
    }
    if let (true, Some(span)) = (out.current_thread, workers_span) {
        return err(
            span,
            "`worker_threads` does not apply to `flavor = \"current_thread\"`: its one \
             worker is the thread that runs the function",
        );
    }
    Ok(out)
}

/// An `async fn` item, split into the parts the expansion reassembles.
pub(crate) struct AsyncFn {
    /// Outer attributes (`#` and its bracket group) and the visibility.
    pub(crate) head: Vec<TokenTree>,
    /// The `fn` keyword and the function's name.
    pub(crate) fn_name: [TokenTree; 2],
    /// The empty parameter list, as written.
    pub(crate) params: Group,
    /// `-> Type`, as written (empty for `()`).
    pub(crate) ret: Vec<TokenTree>,
    /// The body block.
    pub(crate) body: Group,
}

fn is_ident(t: &TokenTree, name: &str) -> bool {
    matches!(t, TokenTree::Ident(i) if i.to_string() == name)
}

fn is_punct(t: Option<&TokenTree>, c: char) -> bool {
    matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

/// Whether `group` is the bracket group of a `#[test]` attribute.
pub(crate) fn is_test_attr(group: &Group) -> bool {
    let inner: Vec<TokenTree> = group.stream().into_iter().collect();
    group.delimiter() == Delimiter::Bracket
        && matches!(inner.as_slice(), [t] if is_ident(t, "test"))
}

/// Parses `#[attr]* vis? async fn name() (-> Type)? { body }`.
pub(crate) fn async_fn(attr: &str, item: TokenStream) -> Result<AsyncFn, Error> {
    let tokens: Vec<TokenTree> = item.into_iter().collect();
    let mut i = 0;
    let mut head = Vec::new();
    // Outer attributes: `#` followed by a bracket group.
    while is_punct(tokens.get(i), '#') {
        match tokens.get(i + 1) {
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket => {
                head.extend_from_slice(&tokens[i..i + 2]);
                i += 2;
            }
            _ => return err(tokens[i].span(), "expected an attribute after `#`"),
        }
    }
    // Visibility: `pub` or `pub(...)`.
    if tokens.get(i).is_some_and(|t| is_ident(t, "pub")) {
        head.push(tokens[i].clone());
        i += 1;
        if let Some(TokenTree::Group(g)) = tokens.get(i) {
            if g.delimiter() == Delimiter::Parenthesis {
                head.push(tokens[i].clone());
                i += 1;
            }
        }
    }
    // Qualifiers up to `fn`: exactly `async`.
    let mut is_async = false;
    while let Some(t) = tokens.get(i) {
        if is_ident(t, "fn") {
            break;
        }
        match t {
            TokenTree::Ident(q) if q.to_string() == "async" => is_async = true,
            TokenTree::Ident(q) if ["const", "unsafe", "extern"].contains(&&*q.to_string()) => {
                return err(
                    q.span(),
                    format!("`{attr}` does not support `{q}` functions"),
                )
            }
            other => return err(other.span(), format!("`{attr}` applies to an `async fn`")),
        }
        i += 1;
    }
    let Some(fn_kw) = tokens.get(i).cloned() else {
        return err(
            Span::call_site(),
            format!("`{attr}` applies to an `async fn`"),
        );
    };
    if !is_async {
        return err(
            fn_kw.span(),
            format!("the `async` keyword is missing from the function declaration (`{attr}` applies to an `async fn`)"),
        );
    }
    let name = match tokens.get(i + 1) {
        Some(t @ TokenTree::Ident(_)) => t.clone(),
        _ => return err(fn_kw.span(), "expected the function's name after `fn`"),
    };
    i += 2;
    if is_punct(tokens.get(i), '<') {
        return err(
            tokens[i].span(),
            format!("`{attr}` does not support generic functions"),
        );
    }
    let params = match tokens.get(i) {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => g.clone(),
        _ => return err(name.span(), "expected the parameter list `()`"),
    };
    if !params.stream().is_empty() {
        return err(
            params.span(),
            format!("`{attr}` functions take no parameters"),
        );
    }
    i += 1;
    let body = match tokens.last() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace && tokens.len() > i => {
            g.clone()
        }
        _ => return err(params.span(), "expected the function's body"),
    };
    let ret = tokens[i..tokens.len() - 1].to_vec();
    if let Some(w) = ret.iter().find(|t| is_ident(t, "where")) {
        return err(
            w.span(),
            format!("`{attr}` does not support `where` clauses"),
        );
    }
    if let Some(first) = ret.first() {
        let arrow = is_punct(Some(first), '-') && is_punct(ret.get(1), '>') && ret.len() > 2;
        if !arrow {
            return err(first.span(), "expected `-> Type` or the function's body");
        }
    }
    Ok(AsyncFn {
        head,
        fn_name: [fn_kw, name],
        params,
        ret,
        body,
    })
}

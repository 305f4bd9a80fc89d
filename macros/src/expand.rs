//! Assembling the expansion (or a `compile_error!`).

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

use crate::parse::{self, Error};

/// Which attribute is being expanded.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Main,
    Test,
}

impl Kind {
    fn attr(self) -> &'static str {
        match self {
            Kind::Main => "#[quell::main]",
            Kind::Test => "#[quell::test]",
        }
    }
}

/// Expands `item` under `attr(args)`; on a parse error, the error followed
/// by the item as written (so the item's own errors are still reported).
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let parsed = parse::args(kind.attr(), args)
        .and_then(|args| Ok((args, parse::async_fn(kind.attr(), item.clone())?)))
        .and_then(|(args, f)| {
            if let Kind::Test = kind {
                reject_second_test_attr(&f)?;
            }
            Ok((args, f))
        });
    match parsed {
        Ok((args, f)) => generate(kind, &args, f),
        Err(e) => {
            let mut out = compile_error(&e);
            out.extend(item);
            out
        }
    }
}

/// `#[quell::test]` adds `#[test]` itself; a second one would register the
/// test twice.
fn reject_second_test_attr(f: &parse::AsyncFn) -> Result<(), Error> {
    for t in &f.head {
        if let TokenTree::Group(g) = t {
            if parse::is_test_attr(g) {
                return Err(Error {
                    span: g.span(),
                    msg: "`#[quell::test]` already makes this a `#[test]`: remove this attribute"
                        .to_owned(),
                });
            }
        }
    }
    Ok(())
}

fn code(s: &str) -> TokenStream {
    s.parse()
        .expect("the expansion's fixed parts are valid tokens")
}

/// ```text
/// #[attrs] [#[test]] vis fn name() -> R {
///     async fn __quell_body() -> R { body }
///     ::quell::__private::block_on(workers, __quell_body())
///     // flavor = "current_thread":
///     // ::quell::__private::block_on_current_thread(__quell_body())
/// }
/// ```
fn generate(kind: Kind, args: &parse::Args, f: parse::AsyncFn) -> TokenStream {
    let mut out = TokenStream::new();
    if let Kind::Test = kind {
        out.extend(code("#[::core::prelude::v1::test]"));
    }
    out.extend(f.head);
    out.extend(f.fn_name);
    out.extend([TokenTree::Group(f.params.clone())]);
    out.extend(f.ret.iter().cloned());

    let mut inner = code("async fn __quell_body");
    inner.extend([TokenTree::Group(f.params)]);
    inner.extend(f.ret);
    inner.extend([TokenTree::Group(f.body)]);
    let call = if args.current_thread {
        "::quell::__private::block_on_current_thread(__quell_body())".to_owned()
    } else {
        let workers = match args.worker_threads {
            Some(n) => format!("::core::option::Option::Some({n}usize)"),
            None => "::core::option::Option::None".to_owned(),
        };
        format!("::quell::__private::block_on({workers}, __quell_body())")
    };
    inner.extend(code(&call));
    out.extend([TokenTree::Group(Group::new(Delimiter::Brace, inner))]);
    out
}

/// `::core::compile_error!("msg")`, every token spanned at the error.
fn compile_error(e: &Error) -> TokenStream {
    let span: Span = e.span;
    let mut lit = Literal::string(&e.msg);
    lit.set_span(span);
    let mut group = Group::new(Delimiter::Parenthesis, TokenTree::Literal(lit).into());
    group.set_span(span);
    let punct = |c, spacing| {
        let mut p = Punct::new(c, spacing);
        p.set_span(span);
        TokenTree::Punct(p)
    };
    [
        punct(':', Spacing::Joint),
        punct(':', Spacing::Alone),
        TokenTree::Ident(Ident::new("core", span)),
        punct(':', Spacing::Joint),
        punct(':', Spacing::Alone),
        TokenTree::Ident(Ident::new("compile_error", span)),
        punct('!', Spacing::Alone),
        TokenTree::Group(group),
        punct(';', Spacing::Alone),
    ]
    .into_iter()
    .collect()
}

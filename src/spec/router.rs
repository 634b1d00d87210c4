//! Request paths to operations.
//!
//! Templates are split into segments and kept in a trie. At each level a
//! literal segment is tried before a segment with a template in it
//! (`{id}.json`), and that before a whole-segment parameter (`{id}`), with
//! backtracking, so `/users/me` beats `/users/{id}` as OpenAPI requires
//! while `/users/42` still finds the template. Matching allocates only for
//! the captured parameter values.

/// The result of routing one path.
#[derive(Debug, PartialEq, Eq)]
pub struct RouteMatch<'a, 'p> {
    /// Index of the path template (into the router's template list).
    pub template: usize,
    /// Path parameters by name, raw (still percent-encoded) as they
    /// appeared: borrowed from the router and the path, so that routing
    /// a request allocates once at most.
    pub params: Vec<(&'a str, &'p str)>,
}

#[derive(Debug, Default)]
pub struct Router {
    root: Node,
    templates: Vec<String>,
    /// Parameter names of each template, in the order they are captured.
    names: Vec<Vec<String>>,
}

#[derive(Debug, Default)]
struct Node {
    literal: foldhash::HashMap<String, Node>,
    /// Segments mixing text and parameters, e.g. `{name}.{ext}`.
    patterned: Vec<(SegmentPattern, Node)>,
    /// A whole-segment parameter. Names live with the template, not here:
    /// `/a/{id}` and `/a/{uuid}/b` share this node under different names.
    param: Option<Box<Node>>,
    end: Option<usize>,
}

/// A segment such as `v{version}` or `{file}.{ext}`: literal pieces and names in order.
#[derive(Debug, PartialEq, Eq)]
struct SegmentPattern {
    pieces: Vec<Piece>,
}

#[derive(Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Param,
}

impl Router {
    /// Adds a template; returns its index. The same template twice is one route.
    pub fn insert(&mut self, template: &str) -> usize {
        let mut node = &mut self.root;
        for segment in split(template) {
            node = match parse_segment(segment) {
                SegmentKind::Literal(text) => node.literal.entry(text).or_default(),
                SegmentKind::Param => node.param.get_or_insert_with(Box::default),
                SegmentKind::Pattern(pattern) => {
                    let index = match node.patterned.iter().position(|(p, _)| *p == pattern) {
                        Some(i) => i,
                        None => {
                            node.patterned.push((pattern, Node::default()));
                            node.patterned.len() - 1
                        }
                    };
                    &mut node.patterned[index].1
                }
            };
        }
        *node.end.get_or_insert_with(|| {
            self.templates.push(template.to_string());
            self.names.push(template_names(template));
            self.templates.len() - 1
        })
    }

    pub fn template(&self, index: usize) -> &str {
        &self.templates[index]
    }

    pub fn find<'a, 'p>(&'a self, path: &'p str) -> Option<RouteMatch<'a, 'p>> {
        // The segments of a path of ordinary depth are kept on the stack.
        let mut inline = [""; 16];
        let mut count = 0;
        let mut deeper = Vec::new();
        for segment in split(path) {
            match inline.get_mut(count) {
                Some(slot) if deeper.is_empty() => {
                    *slot = segment;
                    count += 1;
                }
                _ => {
                    if deeper.is_empty() {
                        deeper.extend_from_slice(&inline[..count]);
                    }
                    deeper.push(segment);
                }
            }
        }
        let segments = if deeper.is_empty() {
            &inline[..count]
        } else {
            &deeper[..]
        };
        let mut values = Vec::new();
        let template = find_in(&self.root, segments, &mut values)?;
        let params = self.names[template]
            .iter()
            .map(String::as_str)
            .zip(values)
            .collect();
        Some(RouteMatch { template, params })
    }
}

fn find_in<'p>(node: &Node, segments: &[&'p str], params: &mut Vec<&'p str>) -> Option<usize> {
    let Some((first, rest)) = segments.split_first() else {
        return node.end;
    };
    if let Some(child) = node.literal.get(*first)
        && let Some(found) = find_in(child, rest, params)
    {
        return Some(found);
    }
    for (pattern, child) in &node.patterned {
        let mark = params.len();
        if pattern.capture(first, params)
            && let Some(found) = find_in(child, rest, params)
        {
            return Some(found);
        }
        params.truncate(mark);
    }
    if let Some(child) = &node.param
        && !first.is_empty()
    {
        params.push(first);
        if let Some(found) = find_in(child, rest, params) {
            return Some(found);
        }
        params.pop();
    }
    None
}

/// Segments after the leading `/`; a trailing `/` gives a final empty segment,
/// so `/projects/` and `/projects` stay different routes, as on the real APIs.
///
/// Split by byte rather than by `str::split`: a path's segments are short,
/// and the general searcher cost more per segment than the routing itself.
fn split(path: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(path.strip_prefix('/').unwrap_or(path));
    std::iter::from_fn(move || {
        let current = rest?;
        match current.bytes().position(|b| b == b'/') {
            Some(at) => {
                rest = Some(&current[at + 1..]);
                Some(&current[..at])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

enum SegmentKind {
    Literal(String),
    Param,
    Pattern(SegmentPattern),
}

fn parse_segment(segment: &str) -> SegmentKind {
    let mut pieces = Vec::new();
    let mut rest = segment;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        if open > 0 {
            pieces.push(Piece::Text(rest[..open].to_string()));
        }
        pieces.push(Piece::Param);
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_string()));
    }
    match pieces.as_slice() {
        [] => SegmentKind::Literal(String::new()),
        [Piece::Text(t)] => SegmentKind::Literal(t.clone()),
        [Piece::Param] => SegmentKind::Param,
        _ => SegmentKind::Pattern(SegmentPattern { pieces }),
    }
}

impl SegmentPattern {
    /// Matches text pieces literally and gives each parameter the shortest
    /// non-empty text up to the next literal piece.
    fn capture<'p>(&self, segment: &'p str, params: &mut Vec<&'p str>) -> bool {
        let mut rest = segment;
        let mut pieces = self.pieces.iter().peekable();
        while let Some(piece) = pieces.next() {
            match piece {
                Piece::Text(t) => match rest.strip_prefix(t.as_str()) {
                    Some(r) => rest = r,
                    None => return false,
                },
                Piece::Param => {
                    let end = match pieces.peek() {
                        Some(Piece::Text(next)) => {
                            match rest.get(1..).and_then(|r| r.find(next.as_str())) {
                                Some(i) => i + 1,
                                None => return false,
                            }
                        }
                        _ => rest.len(),
                    };
                    if end == 0 {
                        return false;
                    }
                    params.push(&rest[..end]);
                    rest = &rest[end..];
                }
            }
        }
        rest.is_empty()
    }
}

/// What is wrong with a path template's braces, if anything: each `{` must
/// close with a `}` in the same segment around a non-empty name, and a name
/// may appear once. Checked at load, so that `/a/{id` is refused instead of
/// being served as the literal text it happens to match.
pub fn template_problem(template: &str) -> Option<String> {
    let mut names: Vec<&str> = Vec::new();
    for segment in split(template) {
        let mut rest = segment;
        loop {
            let open = rest.find('{');
            let close = rest.find('}');
            match (open, close) {
                (None, None) => break,
                (None, Some(_)) => return Some(format!("`}}` without a `{{` in `{segment}`")),
                (Some(open), Some(close)) if close < open => {
                    return Some(format!("`}}` without a `{{` in `{segment}`"));
                }
                (Some(_), None) => return Some(format!("`{{` is not closed in `{segment}`")),
                (Some(open), Some(close)) => {
                    let name = &rest[open + 1..close];
                    if name.is_empty() {
                        return Some(format!("an empty parameter name `{{}}` in `{segment}`"));
                    }
                    if name.contains('{') {
                        return Some(format!("`{{` inside a parameter name in `{segment}`"));
                    }
                    if names.contains(&name) {
                        return Some(format!("parameter `{name}` appears twice"));
                    }
                    names.push(name);
                    rest = &rest[close + 1..];
                }
            }
        }
    }
    None
}

/// The `{names}` of a template, in order.
pub fn template_names(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        names.push(rest[open + 1..open + close].to_string());
        rest = &rest[open + close + 1..];
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(templates: &[&str]) -> Router {
        let mut r = Router::default();
        for t in templates {
            r.insert(t);
        }
        r
    }

    fn route(r: &Router, path: &str) -> Option<(String, Vec<(String, String)>)> {
        r.find(path).map(|m| {
            let params = m.params.iter();
            let owned = params.map(|(n, v)| (n.to_string(), v.to_string()));
            (r.template(m.template).to_string(), owned.collect())
        })
    }

    #[test]
    fn broken_templates_are_named() {
        for (template, problem) in [
            ("/a/{id", "`{` is not closed in `{id`"),
            ("/a/id}", "`}` without a `{` in `id}`"),
            ("/a/{id}/b/{x}y}", "`}` without a `{` in `{x}y}`"),
            ("/a/{}", "an empty parameter name `{}` in `{}`"),
            ("/a/{{id}}", "`{` inside a parameter name in `{{id}}`"),
            ("/a/{id/b}", "`{` is not closed in `{id`"),
            ("/a/{id}/b/{id}", "parameter `id` appears twice"),
        ] {
            assert_eq!(
                template_problem(template).as_deref(),
                Some(problem),
                "{template}"
            );
        }
        for fine in [
            "/",
            "/a",
            "/a/{id}",
            "/a/{id}.{format}/b",
            "/a/x{id}y/{other}",
        ] {
            assert_eq!(template_problem(fine), None, "{fine}");
        }
    }

    #[test]
    fn concrete_segments_win_over_templates() {
        let r = router(&["/users/{id}", "/users/me", "/users/{id}/projects"]);
        assert_eq!(
            route(&r, "/users/me").map(|m| m.0),
            Some("/users/me".into())
        );
        assert_eq!(
            route(&r, "/users/42"),
            Some(("/users/{id}".into(), vec![("id".into(), "42".into())]))
        );
        assert_eq!(
            route(&r, "/users/me/projects").map(|m| m.0),
            Some("/users/{id}/projects".into())
        );
    }

    #[test]
    fn paths_deeper_than_the_segments_kept_on_the_stack_still_route() {
        // 16 segments are kept on the stack; these paths have 15 to 20.
        for depth in 15..=20 {
            let template: String =
                (0..depth).map(|i| format!("/s{i}")).collect::<String>() + "/{id}";
            let r = router(&[template.as_str(), "/s0/{other}"]);
            let path: String = (0..depth).map(|i| format!("/s{i}")).collect::<String>() + "/7";
            assert_eq!(
                route(&r, &path),
                Some((template.clone(), vec![("id".into(), "7".into())])),
                "{depth} segments"
            );
            assert_eq!(route(&r, &format!("{path}/more")), None, "{depth} segments");
        }
    }

    #[test]
    fn trailing_slashes_are_significant() {
        let r = router(&["/api/projects/", "/api/projects/{uuid}/"]);
        assert!(route(&r, "/api/projects/").is_some());
        assert!(route(&r, "/api/projects").is_none());
        assert_eq!(
            route(&r, "/api/projects/abc/").map(|m| m.1[0].1.clone()),
            Some("abc".into())
        );
    }

    #[test]
    fn mixed_segments_capture_their_parameters() {
        let r = router(&["/files/{name}.{ext}", "/files/{id}"]);
        assert_eq!(
            route(&r, "/files/report.pdf"),
            Some((
                "/files/{name}.{ext}".into(),
                vec![
                    ("name".into(), "report".into()),
                    ("ext".into(), "pdf".into())
                ]
            ))
        );
        assert_eq!(
            route(&r, "/files/plain").map(|m| m.0),
            Some("/files/{id}".into())
        );
    }

    #[test]
    fn empty_parameters_and_unknown_paths_do_not_match() {
        let r = router(&["/a/{id}"]);
        assert!(route(&r, "/a/").is_none());
        assert!(route(&r, "/b/1").is_none());
    }

    #[test]
    fn templates_sharing_a_prefix_keep_their_own_names() {
        let r = router(&["/c/{uuid}/", "/c/{customer_uuid}/stats/"]);
        assert_eq!(
            route(&r, "/c/1/"),
            Some(("/c/{uuid}/".into(), vec![("uuid".into(), "1".into())]))
        );
        assert_eq!(
            route(&r, "/c/1/stats/"),
            Some((
                "/c/{customer_uuid}/stats/".into(),
                vec![("customer_uuid".into(), "1".into())]
            ))
        );
    }

    #[test]
    fn backtracking_finds_the_template_behind_a_literal() {
        let r = router(&["/a/b/c", "/a/{x}/d"]);
        assert_eq!(route(&r, "/a/b/d").map(|m| m.0), Some("/a/{x}/d".into()));
    }
}

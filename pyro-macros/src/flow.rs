//! The control flow of a body, as far as sites are concerned: a graph whose nodes are points of
//! the body (sites among them) and whose edges say what may run next. Built by the walk in
//! evaluation order: `if`/`match` arms are alternatives, loops have back edges, `return`,
//! `break` and `continue` end a path, closures are regions of their own (they may run any number
//! of times, or never). Two sites conflict when one can reach the other; a site in a loop
//! reaches itself.

/// A point of the body.
pub type Node = usize;

pub struct Loop {
    label: Option<String>,
    head: Node,
    breaks: Vec<Node>,
    /// A labelled block (`'a: { .. }`): `break 'a` leaves it, nothing loops.
    is_block: bool,
}

/// Where `return` goes.
enum Return {
    /// Out of the function (or of a closure analysed on its own): the path ends.
    Out,
    /// To the point after an inline closure (the body of a vectorised `plate!`, run once).
    Collect(Vec<Node>),
    /// To the next step of a loop whose body is a closure (`markov!`).
    Next(Node),
}

pub struct Flow {
    succ: Vec<Vec<Node>>,
    /// The points the walk may have come from; empty where the path has ended.
    frontier: Vec<Node>,
    loops: Vec<Loop>,
    returns: Vec<Return>,
}

impl Default for Flow {
    fn default() -> Self {
        Flow {
            succ: vec![Vec::new()],
            frontier: vec![0],
            loops: Vec::new(),
            returns: vec![Return::Out],
        }
    }
}

impl Flow {
    fn fresh(&mut self) -> Node {
        self.succ.push(Vec::new());
        self.succ.len() - 1
    }

    fn connect(&mut self, from: &[Node], to: Node) {
        for &f in from {
            if !self.succ[f].contains(&to) {
                self.succ[f].push(to);
            }
        }
    }

    /// A new point, reached from the current ones; it becomes the current point.
    pub fn node(&mut self) -> Node {
        let n = self.fresh();
        let from = std::mem::take(&mut self.frontier);
        self.connect(&from, n);
        self.frontier = vec![n];
        n
    }

    /// The current points (to start alternatives from).
    pub fn save(&self) -> Vec<Node> {
        self.frontier.clone()
    }

    pub fn set(&mut self, frontier: Vec<Node>) {
        self.frontier = frontier;
    }

    /// Adds points to the current ones (the join after alternatives).
    pub fn join(&mut self, more: Vec<Node>) {
        for n in more {
            if !self.frontier.contains(&n) {
                self.frontier.push(n);
            }
        }
    }

    /// The path ends here (`panic!`, `unreachable!`).
    pub fn diverge(&mut self) {
        self.frontier.clear();
    }

    /// Starts a loop (`loop`, `while`, `for`): returns its head, where each iteration starts.
    pub fn loop_begin(&mut self, label: Option<String>) -> Node {
        let head = self.node();
        self.loops.push(Loop {
            label,
            head,
            breaks: Vec::new(),
            is_block: false,
        });
        head
    }

    /// Ends a loop's body: the body's end leads back to the head; after the loop come the
    /// `break`s and `exits` (where the condition or iterator ends the loop).
    pub fn loop_end(&mut self, exits: Vec<Node>) {
        let Some(l) = self.loops.pop() else { return };
        let from = std::mem::take(&mut self.frontier);
        self.connect(&from, l.head);
        self.frontier = exits;
        self.join(l.breaks);
    }

    /// A labelled block, which `break 'label` leaves.
    pub fn block_begin(&mut self, label: String) {
        let head = self.node();
        self.loops.push(Loop {
            label: Some(label),
            head,
            breaks: Vec::new(),
            is_block: true,
        });
    }

    pub fn block_end(&mut self) {
        if let Some(l) = self.loops.pop() {
            self.join(l.breaks);
        }
    }

    fn target(&self, label: Option<&str>, for_continue: bool) -> Option<usize> {
        self.loops.iter().rposition(|l| match label {
            Some(name) => l.label.as_deref() == Some(name),
            None => !l.is_block,
        } && !(for_continue && l.is_block))
    }

    pub fn break_(&mut self, label: Option<&str>) {
        let from = std::mem::take(&mut self.frontier);
        if let Some(i) = self.target(label, false) {
            self.loops[i].breaks.extend(from);
        }
    }

    pub fn continue_(&mut self, label: Option<&str>) {
        let from = std::mem::take(&mut self.frontier);
        if let Some(i) = self.target(label, true) {
            let head = self.loops[i].head;
            self.connect(&from, head);
        }
    }

    pub fn return_(&mut self) {
        let from = std::mem::take(&mut self.frontier);
        match self.returns.last_mut() {
            Some(Return::Collect(c)) => c.extend(from),
            Some(Return::Next(head)) => {
                let head = *head;
                self.connect(&from, head);
            }
            Some(Return::Out) | None => {}
        }
    }

    /// A closure (or `async` block): a region of its own, which may run any number of times at
    /// points the macro cannot see. Returns what to pass to [`Flow::region_end`].
    pub fn region_begin(&mut self) -> (Vec<Node>, Vec<Loop>) {
        let saved = (
            std::mem::take(&mut self.frontier),
            std::mem::take(&mut self.loops),
        );
        let start = self.fresh();
        self.frontier = vec![start];
        self.returns.push(Return::Out);
        saved
    }

    pub fn region_end(&mut self, saved: (Vec<Node>, Vec<Loop>)) {
        self.returns.pop();
        self.frontier = saved.0;
        self.loops = saved.1;
    }

    /// A closure that runs exactly once, here (the body of a vectorised `plate!`): `return`
    /// leaves the closure.
    pub fn inline_begin(&mut self) -> Vec<Loop> {
        self.returns.push(Return::Collect(Vec::new()));
        std::mem::take(&mut self.loops)
    }

    pub fn inline_end(&mut self, loops: Vec<Loop>) {
        if let Some(Return::Collect(c)) = self.returns.pop() {
            self.join(c);
        }
        self.loops = loops;
    }

    /// A loop whose body is a closure (`markov!`): `return` goes on to the next step, and
    /// `break`/`continue` cannot reach loops outside. Returns what to pass to
    /// [`Flow::closure_loop_end`].
    pub fn closure_loop_begin(&mut self) -> (Node, Vec<Loop>) {
        let outer = std::mem::take(&mut self.loops);
        let head = self.node();
        self.returns.push(Return::Next(head));
        (head, outer)
    }

    pub fn closure_loop_end(&mut self, (head, outer): (Node, Vec<Loop>)) {
        self.returns.pop();
        let from = std::mem::take(&mut self.frontier);
        self.connect(&from, head);
        self.frontier = vec![head];
        self.loops = outer;
    }

    /// Whether some path leads from `a` to `b` (through at least one edge: a point in a loop
    /// reaches itself).
    pub fn reaches(&self, a: Node, b: Node) -> bool {
        let mut seen = vec![false; self.succ.len()];
        let mut stack: Vec<Node> = self.succ[a].clone();
        while let Some(n) = stack.pop() {
            if n == b {
                return true;
            }
            if !seen[n] {
                seen[n] = true;
                stack.extend(self.succ[n].iter().copied());
            }
        }
        false
    }
}

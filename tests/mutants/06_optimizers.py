"""Typical wrong answers for 06_optimizers; see tests/mutants/__init__.py."""

_SGD = """
class SGD:
    def __init__(self, lr):
        self.lr = lr

    def step(self, params, grads):
{body}
"""

_MOMENTUM = """
class Momentum:
    def __init__(self, lr, momentum={default}):
        self.lr = lr
        self.momentum = momentum
        self.velocity = None

    def step(self, params, grads):
        if self.velocity is None:
            self.velocity = [np.zeros_like(p) for p in params]
        for p, g, v in zip(params, grads, self.velocity):
            {update}
            p -= self.lr * v
"""

_RMSPROP = """
class RMSProp:
    def __init__(self, lr={lr}, alpha={alpha}, eps=1e-8):
        self.lr = lr
        self.alpha = alpha
        self.eps = eps
        self.square_avg = None

    def step(self, params, grads):
        if self.square_avg is None:
            self.square_avg = [np.zeros_like(p) for p in params]
        for p, g, s in zip(params, grads, self.square_avg):
            {update}
            p -= {step}
"""

_ADAM = """
class Adam:
    def __init__(self, lr=0.001, betas={betas}, eps=1e-8):
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.t = 0
        self.m = None
        self.v = None

    def step(self, params, grads):
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        {count}
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= self.beta1
            m += (1 - self.beta1) * {m_input}
            v *= self.beta2
            v += (1 - self.beta2) * g**2
            m_hat = m / (1 - self.beta1**self.t)
            v_hat = v / (1 - self.beta2**self.t)
            {step}
"""

_ADAM_CORRECT = {"betas": "(0.9, 0.999)", "count": "self.t += 1", "m_input": "g",
                 "step": "p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)"}

_SCHEDULES = """
def step_decay(lr0, epoch, step_size, gamma={gamma}):
    return {step}


def cosine_annealing(lr0, t, T, lr_min=0.0):
    return {cosine}
"""

_SCHEDULES_CORRECT = {"gamma": "0.1", "step": "float(lr0 * gamma ** (epoch // step_size))",
                      "cosine": "float(lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t / T)) / 2)"}

_TORCH = """
class MomentumSGD(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum={default}):
        super().__init__(params, {{"lr": lr, "momentum": momentum}})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "velocity" not in state:
                    state["velocity"] = {first}
                else:
                    state["velocity"].mul_({momentum}).add_(p.grad)
                p.sub_({lr} * state["velocity"])
        return {result}
"""

_TORCH_CORRECT = {"default": "0.9", "first": "p.grad.clone()", "momentum": 'group["momentum"]',
                  "lr": 'group["lr"]', "result": "loss"}


def _adam(**changes):
    return _ADAM.format(**{**_ADAM_CORRECT, **changes})


def _schedules(**changes):
    return _SCHEDULES.format(**{**_SCHEDULES_CORRECT, **changes})


def _torch(**changes):
    return _TORCH.format(**{**_TORCH_CORRECT, **changes})


MUTANTS = [
    ("sgd", "steps along the gradient", _SGD.format(body="""
        for p, g in zip(params, grads):
            p += self.lr * g""")),
    ("sgd", "rebinds a local name instead of updating in place", _SGD.format(body="""
        for p, g in zip(params, grads):
            p = p - self.lr * g""")),
    ("sgd", "replaces the list's arrays instead of updating them", _SGD.format(body="""
        for i, g in enumerate(grads):
            params[i] = params[i] - self.lr * g""")),
    ("sgd", "scales the gradients in place", _SGD.format(body="""
        for p, g in zip(params, grads):
            g *= self.lr
            p -= g""")),
    ("sgd", "updates only the first parameter", _SGD.format(body="""
        params[0] -= self.lr * grads[0]""")),
    ("momentum", "exponential average of gradients (1 - momentum) g", _MOMENTUM.format(
        default="0.9", update="v[...] = self.momentum * v + (1 - self.momentum) * g")),
    ("momentum", "wrong default momentum", _MOMENTUM.format(
        default="0.99", update="v[...] = self.momentum * v + g")),
    ("momentum", "velocity forgotten between steps", """
class Momentum:
    def __init__(self, lr, momentum=0.9):
        self.lr = lr
        self.momentum = momentum

    def step(self, params, grads):
        for p, g in zip(params, grads):
            v = np.zeros_like(p)
            v = self.momentum * v + g
            p -= self.lr * v
"""),
    ("momentum", "one velocity shared by all parameters", """
class Momentum:
    def __init__(self, lr, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.velocity = 0.0

    def step(self, params, grads):
        for p, g in zip(params, grads):
            self.velocity = self.momentum * np.mean(self.velocity) + g
            p -= self.lr * self.velocity
"""),
    ("momentum", "velocity kept at class level, shared by instances", """
class Momentum:
    velocity = {}

    def __init__(self, lr, momentum=0.9):
        self.lr = lr
        self.momentum = momentum

    def step(self, params, grads):
        for i, (p, g) in enumerate(zip(params, grads)):
            if i in Momentum.velocity:
                Momentum.velocity[i] = self.momentum * Momentum.velocity[i] + g
            else:
                Momentum.velocity[i] = g.copy()
            p -= self.lr * Momentum.velocity[i]
"""),
    ("momentum", "Nesterov step", _MOMENTUM.format(
        default="0.9", update="v[...] = self.momentum * v + g; g = g + self.momentum * v").replace(
        "p -= self.lr * v", "p -= self.lr * g")),
    ("momentum", "velocity updated after the step", _MOMENTUM.format(default="0.9", update="pass").replace(
        "            p -= self.lr * v\n",
        "            p -= self.lr * v\n            v[...] = self.momentum * v + g\n")),
    ("rmsprop", "eps inside the square root", _RMSPROP.format(
        lr="0.01", alpha="0.99", update="s[...] = self.alpha * s + (1 - self.alpha) * g**2",
        step="self.lr * g / np.sqrt(s + self.eps)")),
    ("rmsprop", "alpha and 1 - alpha swapped", _RMSPROP.format(
        lr="0.01", alpha="0.99", update="s[...] = (1 - self.alpha) * s + self.alpha * g**2",
        step="self.lr * g / (np.sqrt(s) + self.eps)")),
    ("rmsprop", "no square root", _RMSPROP.format(
        lr="0.01", alpha="0.99", update="s[...] = self.alpha * s + (1 - self.alpha) * g**2",
        step="self.lr * g / (s + self.eps)")),
    ("rmsprop", "bias correction added", """
class RMSProp:
    def __init__(self, lr=0.01, alpha=0.99, eps=1e-8):
        self.lr = lr
        self.alpha = alpha
        self.eps = eps
        self.square_avg = None
        self.t = 0

    def step(self, params, grads):
        if self.square_avg is None:
            self.square_avg = [np.zeros_like(p) for p in params]
        self.t += 1
        for p, g, s in zip(params, grads, self.square_avg):
            s[...] = self.alpha * s + (1 - self.alpha) * g**2
            p -= self.lr * g / (np.sqrt(s / (1 - self.alpha**self.t)) + self.eps)
"""),
    ("rmsprop", "average of gradients, not of their squares", _RMSPROP.format(
        lr="0.01", alpha="0.99", update="s[...] = self.alpha * s + (1 - self.alpha) * np.abs(g)",
        step="self.lr * g / (s + self.eps)")),
    ("rmsprop", "Adam's default learning rate 0.001", _RMSPROP.format(
        lr="0.001", alpha="0.99", update="s[...] = self.alpha * s + (1 - self.alpha) * g**2",
        step="self.lr * g / (np.sqrt(s) + self.eps)")),
    ("rmsprop", "wrong default alpha 0.9", _RMSPROP.format(
        lr="0.01", alpha="0.9", update="s[...] = self.alpha * s + (1 - self.alpha) * g**2",
        step="self.lr * g / (np.sqrt(s) + self.eps)")),
    ("rmsprop", "average starts at g squared", _RMSPROP.format(
        lr="0.01", alpha="0.99",
        update="s[...] = self.alpha * s + (1 - self.alpha) * g**2 if s.any() else g**2",
        step="self.lr * g / (np.sqrt(s) + self.eps)")),
    ("rmsprop", "average forgotten between steps", """
class RMSProp:
    def __init__(self, lr=0.01, alpha=0.99, eps=1e-8):
        self.lr = lr
        self.alpha = alpha
        self.eps = eps

    def step(self, params, grads):
        for p, g in zip(params, grads):
            s = (1 - self.alpha) * g**2
            p -= self.lr * g / (np.sqrt(s) + self.eps)
"""),
    ("adam", "no bias correction", _adam(step="p -= self.lr * m / (np.sqrt(v) + self.eps)")),
    ("adam", "eps inside the square root", _adam(step="p -= self.lr * m_hat / np.sqrt(v_hat + self.eps)")),
    ("adam", "step counter advanced per parameter", _adam(count="", step=(
        "p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)")).replace(
        "        for p, g, m, v in zip(params, grads, self.m, self.v):\n",
        "        for p, g, m, v in zip(params, grads, self.m, self.v):\n            self.t += 1\n")),
    ("adam", "step counter never advanced past 1", _adam(count="self.t = 1")),
    ("adam", "bias correction of m only", _adam(step="p -= self.lr * m_hat / (np.sqrt(v) + self.eps)")),
    ("adam", "betas swapped", _adam(betas="(0.999, 0.9)")),
    ("adam", "first moment from squared gradients", _adam(m_input="np.abs(g)")),
    ("adam", "paper's eps-hat variant", _adam(step=(
        "p -= self.lr * np.sqrt(1 - self.beta2**self.t) / (1 - self.beta1**self.t) * m / (np.sqrt(v) + self.eps)"))),
    ("adam", "state kept at class level, shared by instances", _adam().replace(
        "        if self.m is None:", "        self.__class__.t = getattr(self.__class__, 't', 0)\n"
        "        self.t = self.__class__.t\n        if self.m is None:").replace(
        "        self.t += 1\n", "        self.t += 1\n        self.__class__.t = self.t\n")),
    ("lr_schedules", "step decay without the floor", _schedules(step="float(lr0 * gamma ** (epoch / step_size))")),
    ("lr_schedules", "step decay one epoch early", _schedules(
        step="float(lr0 * gamma ** ((epoch + 1) // step_size))")),
    ("lr_schedules", "wrong default gamma", _schedules(gamma="0.5")),
    ("lr_schedules", "cosine without the pi", _schedules(
        cosine="float(lr_min + (lr0 - lr_min) * (1 + math.cos(t / T)) / 2)")),
    ("lr_schedules", "cosine without the half", _schedules(
        cosine="float(lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t / T)))")),
    ("lr_schedules", "cosine ignores lr_min", _schedules(
        cosine="float(lr0 * (1 + math.cos(math.pi * t / T)) / 2)")),
    ("lr_schedules", "cosine scales lr0 and adds lr_min", _schedules(
        cosine="float(lr_min + lr0 * (1 + math.cos(math.pi * t / T)) / 2)")),
    ("torch_momentum", "learning rate from defaults, not the group", _torch(lr='self.defaults["lr"]')),
    ("torch_momentum", "momentum from defaults, not the group", _torch(momentum='self.defaults["momentum"]')),
    ("torch_momentum", "velocity aliases p.grad (no clone)", _torch(first="p.grad")),
    ("torch_momentum", "closure's loss not returned", _torch(result="None")),
    ("torch_momentum", "wrong default momentum", _torch(default="0.0")),
    ("torch_momentum", "velocity forgotten between steps", _torch().replace(
        'if "velocity" not in state:', "if True:")),
    ("torch_momentum", "parameters without a gradient not skipped", _torch().replace(
        "                if p.grad is None:\n                    continue\n", "")),
    ("torch_momentum", "closure ignored", _torch().replace(
        "        if closure is not None:\n            with torch.enable_grad():\n                loss = closure()\n",
        "")),
    ("torch_momentum", "exponential average of gradients", _torch().replace(
        '.add_(p.grad)', '.add_(p.grad, alpha=1 - group["momentum"])')),
    ("sgd", "returns the parameters instead of nothing", _SGD.format(body="""
        for p, g in zip(params, grads):
            p -= self.lr * g
        return params""")),
    ("sgd", "learning rate copied at construction", _SGD.format(body="""
        for p, g in zip(params, grads):
            p -= self._lr * g""").replace("self.lr = lr", "self.lr = self._lr = lr")),
    # The text's rule is v <- mu v + g, p <- p - lr v with the current lr; folding lr into v
    # agrees with it only while lr stays the same (a schedule changes opt.lr between steps).
    ("momentum", "learning rate folded into the velocity (v = mu v - lr g, p += v)", """
class Momentum:
    def __init__(self, lr, momentum=0.9):
        self.lr, self.momentum, self.velocity = lr, momentum, {}

    def step(self, params, grads):
        for p, g in zip(params, grads):
            v = self.momentum * self.velocity.get(id(p), np.zeros_like(p)) - self.lr * g
            self.velocity[id(p)] = v
            p += v
"""),
    ("momentum", "velocity aliases the caller's first gradient arrays", """
class Momentum:
    def __init__(self, lr, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.velocity = None

    def step(self, params, grads):
        if self.velocity is None:
            self.velocity = list(grads)
        else:
            self.velocity = [self.momentum * v + g for v, g in zip(self.velocity, grads)]
        for p, v in zip(params, self.velocity):
            p -= self.lr * v
"""),
    ("rmsprop", "learning rate copied at construction", _RMSPROP.format(
        lr="0.01", alpha="0.99", update="s[...] = self.alpha * s + (1 - self.alpha) * g**2",
        step="self._lr * g / (np.sqrt(s) + self.eps)").replace("self.lr = lr", "self.lr = self._lr = lr")),
    ("adam", "step size with its bias correction computed from the first lr", _adam(step=(
        "p -= self._lr * m_hat / (np.sqrt(v_hat) + self.eps)")).replace("self.lr = lr", "self.lr = self._lr = lr")),
    ("torch_momentum", "learning rate folded into the momentum buffer", _torch(
        first='p.grad.clone().mul_(group["lr"])', lr="1").replace(
        '.add_(p.grad)', '.add_(p.grad, alpha=group["lr"])')),
    ("torch_momentum", "break at the first parameter without a gradient", _torch().replace(
        "                    continue\n", "                    break\n")),
    ("torch_momentum", "closure's loss returned as a number", _torch(result="None if loss is None else loss.item()")),
    ("torch_momentum", "closure's loss returned detached", _torch(result="None if loss is None else loss.detach()")),
    ("torch_momentum", "closure called after the update", _torch().replace(
        "        if closure is not None:\n            with torch.enable_grad():\n                loss = closure()\n",
        "").replace("        return loss", "        if closure is not None:\n            with torch.enable_grad():\n"
                    "                loss = closure()\n        return loss")),
]

ALTERNATIVES = [
    ("sgd", "np.subtract with out=", """
class SGD:
    def __init__(self, lr):
        self.lr = lr

    def step(self, params, grads):
        for i in range(len(params)):
            np.subtract(params[i], self.lr * grads[i], out=params[i])
"""),
    ("momentum", "p += -lr v, state keyed by id", """
class Momentum:
    def __init__(self, lr, momentum=0.9):
        self.lr, self.momentum, self.velocity = lr, momentum, {}

    def step(self, params, grads):
        for p, g in zip(params, grads):
            v = self.momentum * self.velocity.get(id(p), np.zeros_like(p)) + g
            self.velocity[id(p)] = v
            p += -self.lr * v
"""),
    ("rmsprop", "torch's order of operations, state keyed by index", """
class RMSProp:
    def __init__(self, lr=0.01, alpha=0.99, eps=1e-8):
        self.lr, self.alpha, self.eps, self.state = lr, alpha, eps, {}

    def step(self, params, grads):
        for i, (p, g) in enumerate(zip(params, grads)):
            s = self.state.setdefault(i, np.zeros_like(p))
            s[:] = s * self.alpha + (1 - self.alpha) * g * g
            avg = np.sqrt(s) + self.eps
            p[:] = p - self.lr * g / avg
"""),
    ("adam", "torch's step size and denominator, per-parameter step count", """
class Adam:
    def __init__(self, lr=0.001, betas=(0.9, 0.999), eps=1e-8):
        self.lr, self.betas, self.eps, self.state = lr, betas, eps, {}

    def step(self, params, grads):
        beta1, beta2 = self.betas
        for i, (p, g) in enumerate(zip(params, grads)):
            st = self.state.setdefault(i, {"step": 0, "m": np.zeros_like(p), "v": np.zeros_like(p)})
            st["step"] += 1
            st["m"] = beta1 * st["m"] + (1 - beta1) * g
            st["v"] = beta2 * st["v"] + (1 - beta2) * g * g
            denom = np.sqrt(st["v"]) / math.sqrt(1 - beta2 ** st["step"]) + self.eps
            p -= self.lr / (1 - beta1 ** st["step"]) * st["m"] / denom
"""),
    ("lr_schedules", "math.floor and NumPy's cosine", """
def step_decay(lr0, epoch, step_size, gamma=0.1):
    return lr0 * gamma ** math.floor(epoch / step_size)


def cosine_annealing(lr0, t, T, lr_min=0.0):
    return lr_min + 0.5 * (lr0 - lr_min) * (1 + np.cos(np.pi * t / T))
"""),
    ("torch_momentum", "p.data and torch.clone, closure without enable_grad", """
class MomentumSGD(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.9):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "buf" not in state:
                    buf = state["buf"] = torch.clone(p.grad.data).detach()
                else:
                    buf = state["buf"]
                    buf.mul_(group["momentum"]).add_(p.grad.data)
                p.data.add_(buf, alpha=-group["lr"])
        return loss
"""),
]

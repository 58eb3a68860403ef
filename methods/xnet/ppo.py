"""Proximal policy optimisation (CleanRL-style, discrete actions) with separate actor and critic.

Per update: collect ``num_steps`` transitions in each of ``num_envs`` environments, compute GAE
advantages, then ``update_epochs`` passes of ``num_minibatches`` minibatches on the clipped loss

    L = −mean(min(r·Â, clip(r, 1 − ε, 1 + ε)·Â)) + c_v·½·mean(max((V − R)², (V_clip − R)²))
        − c_e·mean(entropy),   r = π_new(a|s)/π_old(a|s),  V_clip = V_old + clip(V − V_old, ±ε),

with advantages normalised per minibatch, the learning rate annealed linearly to 0 and gradients
clipped to norm ``max_grad_norm``.  An episode that is cut by the time limit is treated as done
(as CleanRL does).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from runner.api import UserError


@dataclass
class PPOConfig:
    total_steps: int = 50_000
    num_envs: int = 4
    num_steps: int = 128
    lr: float = 2.5e-4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    num_minibatches: int = 4
    update_epochs: int = 4
    clip: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    grid_updates: int = 0  # KAN only: refit the grids to the rollout observations in the first updates


def gae(rewards: torch.Tensor, values: torch.Tensor, dones: torch.Tensor, next_value: torch.Tensor,
        next_done: torch.Tensor, gamma: float, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation over a (T, E) rollout.

    dones[t] flags that obs[t] starts a new episode (the previous step ended one).
    δ_t = r_t + γ·V(s_{t+1})·(1 − done_{t+1}) − V(s_t),  Â_t = δ_t + γλ·(1 − done_{t+1})·Â_{t+1};
    returns R_t = Â_t + V(s_t).
    """
    steps = len(rewards)
    adv = torch.zeros_like(rewards)
    last = torch.zeros_like(next_value)
    for t in reversed(range(steps)):
        nonterminal = 1.0 - (next_done if t == steps - 1 else dones[t + 1])
        next_v = next_value if t == steps - 1 else values[t + 1]
        delta = rewards[t] + gamma * next_v * nonterminal - values[t]
        last = delta + gamma * lam * nonterminal * last
        adv[t] = last
    return adv, adv + values


def ppo_loss(logits: torch.Tensor, actions: torch.Tensor, old_logprob: torch.Tensor, adv: torch.Tensor,
             value: torch.Tensor, old_value: torch.Tensor, returns: torch.Tensor, clip: float,
             ent_coef: float, vf_coef: float) -> tuple[torch.Tensor, dict[str, float]]:
    """The clipped PPO objective of the module docstring (advantages already normalised)."""
    logp_all = F.log_softmax(logits, dim=-1)
    logprob = logp_all.gather(1, actions[:, None])[:, 0]
    entropy = -(logp_all.exp() * logp_all).sum(-1)
    ratio = (logprob - old_logprob).exp()
    pg = -torch.min(ratio * adv, ratio.clamp(1 - clip, 1 + clip) * adv).mean()
    v_clipped = old_value + (value - old_value).clamp(-clip, clip)
    v_loss = 0.5 * torch.max((value - returns) ** 2, (v_clipped - returns) ** 2).mean()
    loss = pg - ent_coef * entropy.mean() + vf_coef * v_loss
    return loss, {"pg_loss": pg.item(), "v_loss": v_loss.item(), "entropy": entropy.mean().item()}


def learning_curve(steps: np.ndarray, returns: np.ndarray, total: int, n_bins: int = 20) -> np.ndarray:
    """Mean episodic return of the episodes ending in each of ``n_bins`` equal step bins of
    [0, total] (a bin with no episode end carries the previous bin's value; 0 before the first)."""
    edges = np.linspace(0, total, n_bins + 1)
    curve = np.zeros(n_bins)
    prev = 0.0
    for i in range(n_bins):
        hit = (steps > edges[i]) & (steps <= edges[i + 1])
        prev = float(np.mean(returns[hit])) if hit.any() else prev
        curve[i] = prev
    return curve


def make_envs(env_id: str, n: int):
    """``n`` gymnasium environments (gymnasium is the optional extra ``rl``)."""
    try:
        import gymnasium as gym
    except ImportError:
        raise UserError("PPO needs gymnasium: install the optional extra with pip install -e '.[rl]'") from None
    try:
        envs = [gym.make(env_id) for _ in range(n)]
    except gym.error.Error as err:
        raise UserError(f"dataset.env_id {env_id!r} is not a gymnasium environment: {err}") from None
    if not isinstance(envs[0].action_space, gym.spaces.Discrete):
        raise UserError(f"PPO here needs a discrete action space; {env_id} has {envs[0].action_space}")
    return envs


def run_ppo(actor: torch.nn.Module, critic: torch.nn.Module, envs: list, cfg: PPOConfig, seeds: list[int],
            generator: torch.Generator, progress=None) -> dict:
    """Train ``actor`` (obs → logits) and ``critic`` (obs → value) by PPO on ``envs``.

    Returns {"episodes": [(global_step, return)], "update_seconds", "rollout_seconds",
    "n_updates"}.
    """
    n_env, n_steps = cfg.num_envs, cfg.num_steps
    batch = n_env * n_steps
    n_updates = max(1, cfg.total_steps // batch)
    mb = batch // cfg.num_minibatches
    params = list(actor.parameters()) + list(critic.parameters())
    opt = torch.optim.Adam(params, lr=cfg.lr, eps=1e-5)
    obs_dim = envs[0].observation_space.shape[0]
    obs_buf = torch.zeros(n_steps, n_env, obs_dim, dtype=torch.float64)
    act_buf = torch.zeros(n_steps, n_env, dtype=torch.long)
    logp_buf, rew_buf, done_buf, val_buf = (torch.zeros(n_steps, n_env, dtype=torch.float64) for _ in range(4))
    next_obs = torch.as_tensor(np.stack([e.reset(seed=s)[0] for e, s in zip(envs, seeds)]), dtype=torch.float64)
    next_done = torch.zeros(n_env, dtype=torch.float64)
    ep_ret = np.zeros(n_env)
    episodes: list[tuple[int, float]] = []
    global_step, t_roll, t_upd = 0, 0.0, 0.0
    it = range(n_updates) if progress is None else progress(range(n_updates), n_updates, "ppo")
    for update in it:
        for group in opt.param_groups:
            group["lr"] = cfg.lr * (1.0 - update / n_updates)
        t0 = time.perf_counter()
        for step in range(n_steps):
            global_step += n_env
            obs_buf[step], done_buf[step] = next_obs, next_done
            with torch.no_grad():
                logp = F.log_softmax(actor(next_obs), dim=-1)
                action = torch.multinomial(logp.exp(), 1, generator=generator)[:, 0]
                val_buf[step] = critic(next_obs)[:, 0]
            act_buf[step], logp_buf[step] = action, logp.gather(1, action[:, None])[:, 0]
            obs_list, rewards, dones = [], np.zeros(n_env), np.zeros(n_env)
            for i, env in enumerate(envs):
                o, r, term, trunc, _ = env.step(int(action[i]))
                ep_ret[i] += r
                rewards[i], dones[i] = r, float(term or trunc)
                if term or trunc:
                    episodes.append((global_step, float(ep_ret[i])))
                    ep_ret[i] = 0.0
                    o, _ = env.reset()
                obs_list.append(o)
            rew_buf[step] = torch.as_tensor(rewards)
            next_obs = torch.as_tensor(np.stack(obs_list), dtype=torch.float64)
            next_done = torch.as_tensor(dones)
        t1 = time.perf_counter()
        b_obs = obs_buf.reshape(batch, obs_dim)
        if update < cfg.grid_updates:
            for net in (actor, critic):
                if hasattr(net, "update_grid"):
                    net.update_grid(b_obs)
            with torch.no_grad():  # the refit changes the networks slightly: re-evaluate the old policy
                logp_buf = F.log_softmax(actor(b_obs), -1).gather(1, act_buf.reshape(-1, 1))[:, 0].reshape(n_steps, n_env)
                val_buf = critic(b_obs)[:, 0].reshape(n_steps, n_env)
        with torch.no_grad():
            next_value = critic(next_obs)[:, 0]
        adv, ret = gae(rew_buf, val_buf, done_buf, next_value, next_done, cfg.gamma, cfg.gae_lambda)
        b_act, b_logp = act_buf.reshape(-1), logp_buf.reshape(-1)
        b_adv, b_ret, b_val = adv.reshape(-1), ret.reshape(-1), val_buf.reshape(-1)
        for _ in range(cfg.update_epochs):
            perm = torch.randperm(batch, generator=generator)
            for start in range(0, batch, mb):
                idx = perm[start:start + mb]
                a = b_adv[idx]
                a = (a - a.mean()) / (a.std() + 1e-8)
                loss, _ = ppo_loss(actor(b_obs[idx]), b_act[idx], b_logp[idx], a, critic(b_obs[idx])[:, 0],
                                   b_val[idx], b_ret[idx], cfg.clip, cfg.ent_coef, cfg.vf_coef)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
                opt.step()
        t_roll += t1 - t0
        t_upd += time.perf_counter() - t1
    return {"episodes": episodes, "update_seconds": t_upd, "rollout_seconds": t_roll, "n_updates": n_updates,
            "env_steps": global_step}

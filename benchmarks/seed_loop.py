"""The seed notebook's training loop, reimplemented faithfully: the reference for the engine benchmark.

Same networks (critic 2-128-128-1 LeakyReLU(0.2), generator 2-128-128-2 ReLU),
same data (3,000 points of the 3-Gaussian mixture in a shuffled DataLoader,
batch 64), same loop: for every real batch, n_critic critic steps, each with a
fresh generator pass and separate critic passes (real, fake, interpolates for
GP), then one generator step; `.item()` per iteration as the notebook records
its history. Only the epoch loop is replaced by a time budget.
"""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


class Critic(nn.Module):
    def __init__(self, input_dim=2, hidden_dim=128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(input_dim, hidden_dim), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden_dim, hidden_dim), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden_dim, 1))

    def forward(self, x):
        return self.net(x)


class Generator(nn.Module):
    def __init__(self, latent_dim=2, output_dim=2, hidden_dim=128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent_dim, hidden_dim), nn.ReLU(),
                                 nn.Linear(hidden_dim, hidden_dim), nn.ReLU(),
                                 nn.Linear(hidden_dim, output_dim))

    def forward(self, z):
        return self.net(z)


def create_data_loader(n_samples=3000, batch_size=64):
    means = np.array([[0, 0], [3, 3], [-2, 3]])
    data = np.concatenate([np.random.randn(n_samples // 3, 2) * 0.5 + m for m in means])
    np.random.shuffle(data)
    return torch.utils.data.DataLoader(torch.FloatTensor(data), batch_size=batch_size, shuffle=True)


def compute_gradient_penalty(critic, real_data, fake_data, device):
    batch_size = real_data.size(0)
    epsilon = torch.rand(batch_size, 1).to(device)
    interpolated = epsilon * real_data + (1 - epsilon) * fake_data
    interpolated.requires_grad_(True)
    critic_interpolated = critic(interpolated)
    gradients = torch.autograd.grad(outputs=critic_interpolated, inputs=interpolated,
                                    grad_outputs=torch.ones_like(critic_interpolated),
                                    create_graph=True, retain_graph=True)[0]
    gradients = gradients.view(batch_size, -1)
    return ((gradients.norm(2, dim=1) - 1) ** 2).mean()


def run(method: str, seconds: float, device: str = "cpu", n_critic: int = 5) -> dict:
    """Train like the notebook for ``seconds``; return critic steps, wall and process CPU time."""
    latent_dim = 2
    torch.manual_seed(0)
    np.random.seed(0)
    critic, generator = Critic().to(device), Generator().to(device)
    if method == "wgan-gp":
        opt_g = optim.Adam(generator.parameters(), lr=1e-4, betas=(0.5, 0.9))
        opt_c = optim.Adam(critic.parameters(), lr=1e-4, betas=(0.5, 0.9))
    else:
        opt_g = optim.RMSprop(generator.parameters(), lr=5e-5)
        opt_c = optim.RMSprop(critic.parameters(), lr=5e-5)
    loader = create_data_loader()
    steps, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        for real_data in loader:
            real_data = real_data.to(device)
            batch_size = real_data.size(0)
            for _ in range(n_critic):
                opt_c.zero_grad()
                z = torch.randn(batch_size, latent_dim).to(device)
                fake_data = generator(z).detach()
                critic_real = critic(real_data).mean()
                critic_fake = critic(fake_data).mean()
                if method == "wgan-gp":
                    gp = compute_gradient_penalty(critic, real_data, fake_data, device)
                    critic_loss = -(critic_real - critic_fake) + 10 * gp
                else:
                    critic_loss = -(critic_real - critic_fake)
                critic_loss.backward()
                opt_c.step()
                if method == "wgan-clip":
                    for p in critic.parameters():
                        p.data.clamp_(-0.01, 0.01)
            opt_g.zero_grad()
            z = torch.randn(batch_size, latent_dim).to(device)
            g_loss = -critic(generator(z)).mean()
            g_loss.backward()
            opt_g.step()
            _ = (-critic_loss.item(), g_loss.item())
            steps += n_critic
            if time.perf_counter() - t0 >= seconds:
                break
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return {"critic_steps": steps, "seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0}

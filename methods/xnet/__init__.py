"""XNet (Cauchy activation) vs KAN vs MLP: function fitting, PINNs and PPO (paper slug ``xnet``).

Modules: ``cauchy`` (the Cauchy activation and XNet), ``kan`` (B-spline KAN), ``models`` (MLP and
the model factory), ``targets`` (function datasets), ``pde`` (PINN problems), ``train`` (training
loops), ``ppo`` (PPO on CartPole-v1), ``method`` (the engine adapters).  Nothing heavy is imported
here.
"""

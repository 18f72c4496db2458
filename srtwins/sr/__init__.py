"""The SR nets: architectures, training data, losses, training, GAN fine-tuning, inference, scoring."""

"""Wrong solutions of assignment 04 that a student could plausibly write; each must lose points."""

MUTANTS = [
    ("gram_matrix", "no normalisation", '''
def gram_matrix(features):
    *batch, c, h, w = features.shape
    flat = features.reshape(*batch, c, h * w)
    return flat @ flat.transpose(-1, -2)
'''),
    ("gram_matrix", "normalised by C·H·W", '''
def gram_matrix(features):
    *batch, c, h, w = features.shape
    flat = features.reshape(*batch, c, h * w)
    return flat @ flat.transpose(-1, -2) / (c * h * w)
'''),
    ("gram_matrix", "reshape of the channels-last layout", '''
def gram_matrix(features):
    *batch, c, h, w = features.shape
    flat = features.reshape(*batch, h * w, c).transpose(-1, -2)
    return flat @ flat.transpose(-1, -2) / (h * w)
'''),
    ("gram_matrix", "fails on a batch", '''
def gram_matrix(features):
    c, h, w = features.shape
    flat = features.reshape(c, h * w)
    return flat @ flat.T / (h * w)
'''),
    ("gram_matrix", "one matrix for the whole batch", '''
def gram_matrix(features):
    c, h, w = features.shape[-3:]
    flat = features.transpose(0, -3).reshape(c, -1) if features.dim() == 4 else features.reshape(c, h * w)
    return flat @ flat.T / (h * w)
'''),
    ("gram_matrix", "Fᵀ·F instead of F·Fᵀ", '''
def gram_matrix(features):
    *batch, c, h, w = features.shape
    flat = features.reshape(*batch, c, h * w)
    return flat.transpose(-1, -2) @ flat / (h * w)
'''),
    ("gram_matrix", "goes through NumPy", '''
def gram_matrix(features):
    *batch, c, h, w = features.shape
    flat = features.detach().numpy().reshape(*batch, c, h * w)
    return torch.from_numpy(flat @ np.swapaxes(flat, -1, -2) / (h * w))
'''),
    ("gram_matrix", "squeezes a batch of one", '''
def gram_matrix(features):
    *batch, c, h, w = features.shape
    flat = features.reshape(*batch, c, h * w)
    return (flat @ flat.transpose(-1, -2) / (h * w)).squeeze(0)
'''),
    ("discriminator_loss", "labels swapped", '''
def discriminator_loss(real_logits, fake_logits):
    return (F.binary_cross_entropy_with_logits(real_logits, torch.zeros_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits)))
'''),
    ("discriminator_loss", "sum instead of mean", '''
def discriminator_loss(real_logits, fake_logits):
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits), reduction="sum")
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits), reduction="sum"))
'''),
    ("discriminator_loss", "naive sigmoid and log", '''
def discriminator_loss(real_logits, fake_logits):
    return (-torch.log(torch.sigmoid(real_logits)).mean()
            - torch.log(1 - torch.sigmoid(fake_logits)).mean())
'''),
    ("discriminator_loss", "sigmoid and log with an epsilon", '''
def discriminator_loss(real_logits, fake_logits):
    eps = 1e-7
    return (-torch.log(torch.sigmoid(real_logits) + eps).mean()
            - torch.log(1 - torch.sigmoid(fake_logits) + eps).mean())
'''),
    ("discriminator_loss", "binary_cross_entropy on sigmoid (clamped log)", '''
def discriminator_loss(real_logits, fake_logits):
    real, fake = torch.sigmoid(real_logits), torch.sigmoid(fake_logits)
    return (F.binary_cross_entropy(real, torch.ones_like(real))
            + F.binary_cross_entropy(fake, torch.zeros_like(fake)))
'''),
    ("discriminator_loss", "half of the sum", '''
def discriminator_loss(real_logits, fake_logits):
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))) / 2
'''),
    ("discriminator_loss", "one mean over the joined batch", '''
def discriminator_loss(real_logits, fake_logits):
    logits = torch.cat([real_logits, fake_logits])
    labels = torch.cat([torch.ones_like(real_logits), torch.zeros_like(fake_logits)])
    return F.binary_cross_entropy_with_logits(logits, labels)
'''),
    ("discriminator_loss", "returns a Python float", '''
def discriminator_loss(real_logits, fake_logits):
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))).item()
'''),
    ("discriminator_loss", "detaches the fake logits", '''
def discriminator_loss(real_logits, fake_logits):
    fake_logits = fake_logits.detach()
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
'''),
    ("generator_loss", "saturating form log(1 - D(G(z)))", '''
def generator_loss(fake_logits):
    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
'''),
    ("generator_loss", "label 0 instead of 1", '''
def generator_loss(fake_logits):
    return F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
'''),
    ("generator_loss", "detaches the fake logits", '''
def generator_loss(fake_logits):
    fake_logits = fake_logits.detach()
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
'''),
    ("generator_loss", "naive sigmoid and log", '''
def generator_loss(fake_logits):
    return -torch.log(torch.sigmoid(fake_logits)).mean()
'''),
    ("generator_loss", "sum instead of mean", '''
def generator_loss(fake_logits):
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits), reduction="sum")
'''),
    ("generator_loss", "per-sample losses, no mean", '''
def generator_loss(fake_logits):
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits), reduction="none")
'''),
    ("generator_loss", "negated logits into log-sigmoid (sign error)", '''
def generator_loss(fake_logits):
    return -F.logsigmoid(-fake_logits).mean()
'''),
    ("gram_matrix", ".view() instead of reshape (fails on non-contiguous maps)", '''
def gram_matrix(features):
    *batch, c, h, w = features.shape
    flat = features.view(*batch, c, h * w)
    return flat @ flat.transpose(-1, -2) / (h * w)
'''),
]

# Correct answers written differently: each must keep full marks.
ALTERNATIVES = [
    ("gram_matrix", "flatten and einsum", '''
def gram_matrix(features):
    h, w = features.shape[-2:]
    flat = features.flatten(-2)
    return torch.einsum("...ip,...jp->...ij", flat, flat) / (h * w)
'''),
    ("discriminator_loss", "softplus", '''
def discriminator_loss(real_logits, fake_logits):
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
'''),
    ("generator_loss", "minus logsigmoid", '''
def generator_loss(fake_logits):
    return -F.logsigmoid(fake_logits).mean()
'''),
]

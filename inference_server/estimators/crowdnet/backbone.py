"""ResNet-50 with torchvision's layout and parameter names (v1.5: stride on the 3x3 conv), split in two.

3DCrowdNet runs the stem (conv1 -> bn1 -> relu -> maxpool), fuses pose heatmaps in, then runs layers
1-4. torchvision itself is not used: its wheels do not import beside the pinned torch.
"""

from __future__ import annotations

import torch
from torch import nn


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


def _layer(inplanes: int, planes: int, blocks: int, stride: int) -> nn.Sequential:
    downsample = nn.Sequential(
        nn.Conv2d(inplanes, planes * Bottleneck.expansion, 1, stride=stride, bias=False),
        nn.BatchNorm2d(planes * Bottleneck.expansion),
    )
    layers = [Bottleneck(inplanes, planes, stride, downsample)]
    layers += [Bottleneck(planes * Bottleneck.expansion, planes) for _ in range(1, blocks)]
    return nn.Sequential(*layers)


class ResNet50Backbone(nn.Module):
    """(N, 3, 256, 256) -> stem (N, 64, 64, 64); (N, 64, 64, 64) -> body (N, 2048, 8, 8)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = _layer(64, 64, 3, stride=1)
        self.layer2 = _layer(256, 128, 4, stride=2)
        self.layer3 = _layer(512, 256, 6, stride=2)
        self.layer4 = _layer(1024, 512, 3, stride=2)

    def stem(self, image: torch.Tensor) -> torch.Tensor:
        return self.maxpool(self.relu(self.bn1(self.conv1(image))))

    def body(self, features: torch.Tensor) -> torch.Tensor:
        return self.layer4(self.layer3(self.layer2(self.layer1(features))))

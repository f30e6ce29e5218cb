# The "fit a line" demo (UCI-housing shaped: 13 features, one target), with
# synthetic data made here so that it runs offline. Trains a linear model with
# real paddle for a few epochs and prints the loss of each as one JSON line.
import json
import sys

import numpy as np
import paddle

if not paddle.in_dynamic_mode():  # the probe runs this after run_check, in its interpreter: the
    paddle.disable_static()  # eager mode, whatever run_check left (its static run stays static when it raises)
paddle.seed(7)
rng = np.random.RandomState(7)
x = rng.rand(256, 13).astype("float32")
w = rng.rand(13, 1).astype("float32")
y = x.dot(w) + 0.5 + 0.01 * rng.randn(256, 1).astype("float32")

model = paddle.nn.Linear(13, 1)
optimizer = paddle.optimizer.SGD(learning_rate=0.05, parameters=model.parameters())
features, target = paddle.to_tensor(x), paddle.to_tensor(y)
losses = []
for _epoch in range(40):
    loss = paddle.nn.functional.mse_loss(model(features), target)
    loss.backward()
    optimizer.step()
    optimizer.clear_grad()
    losses.append(float(loss))
sys.stdout.write("\n" + json.dumps({"losses": losses}) + "\n")

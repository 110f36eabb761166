"""Keras code as tutorials write it imports by reading the source (issue 15, item 11): each
snippet below becomes a design that checks clean with Keras's shapes and documented parameter
counts, its training settings come from compile and fit, whatever has no equivalent is one
refusal naming every line, and nothing is run or needs TensorFlow."""

from __future__ import annotations

import math
import sys

import pytest
from test_codegen_helpers import single_thread

from engine import check
from engine.cli import main as cli_main
from engine.errors import DesignError
from engine.fileformat import load_design
from engine.importing.keras_source import import_keras_source, is_keras_source
from engine.training.trainer import RunOptions, Trainer

# The seeds' examples: an MLP on MNIST (Dense(64) on 784 inputs: 50,240 parameters).
MLP = """\
import tensorflow as tf
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense, Dropout

model = Sequential([
    Dense(64, activation='relu', input_shape=(784,)),
    Dropout(0.2),
    Dense(64, activation='relu'),
    Dense(10, activation='softmax'),
])
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
model.fit(x_train, y_train, epochs=5, batch_size=32)
"""

# keras.io "Simple MNIST convnet" (Keras 3 spelling), documented total 34,826.
CNN = """\
import keras
from keras import layers

num_classes = 10
input_shape = (28, 28, 1)
model = keras.Sequential(
    [
        keras.Input(shape=input_shape),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ]
)
model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=128, epochs=15, validation_split=0.1)
"""

# The classic keras/examples/mnist_cnn.py (model.add style, the channels test), total 1,199,882.
CLASSIC_CNN = """\
from tensorflow import keras
from tensorflow.keras import backend as K
from tensorflow.keras.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D

img_rows, img_cols = 28, 28
if K.image_data_format() == 'channels_first':
    input_shape = (1, img_rows, img_cols)
else:
    input_shape = (28, 28, 1)
model = keras.models.Sequential()
model.add(Conv2D(32, kernel_size=(3, 3), activation='relu', input_shape=input_shape))
model.add(Conv2D(64, (3, 3), activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))
model.add(Flatten())
model.add(Dense(128, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(10, activation='softmax'))
model.compile(loss=keras.losses.categorical_crossentropy,
              optimizer=keras.optimizers.Adadelta(), metrics=['accuracy'])
"""

# keras/examples/imdb_lstm.py: Embedding, LSTM, a sigmoid score.
IMDB_LSTM = """\
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense, Embedding, LSTM

max_features = 20000
maxlen = 80
model = Sequential()
model.add(Embedding(max_features, 128, input_length=maxlen))
model.add(LSTM(128, dropout=0.2, recurrent_dropout=0.2))
model.add(Dense(1, activation='sigmoid'))
model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
"""

# A time-series SimpleRNN (tf.keras.layers.X spelling), trained with SGD on MSE.
SIMPLE_RNN = """\
import tensorflow as tf
model = tf.keras.Sequential()
model.add(tf.keras.layers.SimpleRNN(32, input_shape=(10, 1), return_sequences=True))
model.add(tf.keras.layers.SimpleRNN(16))
model.add(tf.keras.layers.Dense(1))
model.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=0.05, momentum=0.9), loss='mse')
model.fit(X, y, epochs=20)
"""

# Functional API: two inputs of a text classifier joined by Concatenate, a GRU, a Bidirectional
# LSTM and a Conv1D over the embedded tokens.
FUNCTIONAL = """\
from tensorflow import keras
from tensorflow.keras import layers

tokens = keras.Input(shape=(50,), dtype="int32")
extra = keras.Input(shape=(8,))
x = layers.Embedding(1000, 32)(tokens)
x = layers.Conv1D(16, 5, padding="same", activation="relu")(x)
x = layers.MaxPooling1D(2)(x)
x = layers.Bidirectional(layers.LSTM(24, return_sequences=True))(x)
x = layers.GRU(12)(x)
x = layers.concatenate([x, extra])
x = layers.BatchNormalization()(x)
outputs = layers.Dense(3, activation="softmax", name="scores")(x)
model = keras.Model(inputs=[tokens, extra], outputs=outputs)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-4),
              loss=keras.losses.SparseCategoricalCrossentropy())
"""

# keras.io "The Functional API" toy ResNet (layers.add), documented total 223,242.
TOY_RESNET = """\
from tensorflow import keras
from tensorflow.keras import layers

inputs = keras.Input(shape=(32, 32, 3), name="img")
x = layers.Conv2D(32, 3, activation="relu")(inputs)
x = layers.Conv2D(64, 3, activation="relu")(x)
block_1_output = layers.MaxPooling2D(3)(x)

x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
block_2_output = layers.add([x, block_1_output])

x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
block_3_output = layers.add([x, block_2_output])

x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dense(256, activation="relu")(x)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(10)(x)

model = keras.Model(inputs, outputs, name="toy_resnet")
model.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss=keras.losses.CategoricalCrossentropy(from_logits=True),
    metrics=["acc"],
)
"""

# A DCGAN-style generator: Dense -> Reshape((7, 7, 64)) -> transposed convolutions.
GENERATOR = """\
from tensorflow.keras import layers, Sequential
generator = Sequential([
    layers.Dense(7 * 7 * 64, use_bias=False, input_shape=(100,)),
    layers.BatchNormalization(),
    layers.LeakyReLU(),
    layers.Reshape((7, 7, 64)),
    layers.Conv2DTranspose(32, (5, 5), strides=(2, 2), padding='same', use_bias=False),
    layers.Conv2DTranspose(1, (5, 5), strides=(2, 2), padding='same', activation='tanh'),
])
generator.compile(optimizer='adam', loss='mse')
"""


def _import(source: str, **options):
    result = import_keras_source(source, "tutorial.py", **options)
    report = check(result.design)
    assert not report.problems, report.problems
    return result, report


def _nodes(design, layer_type: str) -> list[str]:
    return [n for n in design.nodes() if design.node(n).type == layer_type]


def _counts(design, report, layer_type: str) -> list[int]:
    return [report.params(n) for n in _nodes(design, layer_type)]


def test_mlp_has_keras_counts_and_its_compile_and_fit_settings():
    result, report = _import(MLP)
    design = result.design
    assert _counts(design, report, "Linear") == [50_240, 4_160, 650]
    assert report.total_params() == 55_050
    assert [design.node(n).params["shape"] for n in _nodes(design, "Input")] == [(784,)]
    assert design.training == {"task": "classification", "loss": "cross_entropy",
                               "optimizer": {"name": "adam"}, "epochs": 5, "batch_size": 32}
    # the final softmax goes (the loss applies it), the hidden ReLUs stay
    assert not _nodes(design, "Softmax") and len(_nodes(design, "ReLU")) == 2
    assert any("final softmax is left out" in note and "line 9" in note
               for note in result.notes)


def test_cnn_input_becomes_channels_first_with_keras_counts():
    result, report = _import(CNN)
    design = result.design
    [source] = _nodes(design, "Input")
    assert design.node(source).params["shape"] == (1, 28, 28)
    assert report.total_params() == 34_826
    assert _counts(design, report, "Conv2d") == [320, 18_496]
    assert [report.shape(n) for n in _nodes(design, "MaxPool2d")] == [
        ("N", 32, 13, 13), ("N", 64, 5, 5)]
    assert not _nodes(design, "Permute")   # the Input's order is chosen, not permuted
    assert any("(28, 28, 1) is (1, 28, 28)" in note for note in result.notes)
    assert design.training["data"] == {"validation_split": 0.1}
    assert "(28, 28, 1) is (1, 28, 28)" in design.description


def test_classic_cnn_reads_names_bound_in_branches_and_notes_an_unknown_optimizer():
    result, report = _import(CLASSIC_CNN)
    assert report.total_params() == 1_199_882
    assert result.design.training == {"task": "classification", "loss": "cross_entropy"}
    assert any("Adadelta()" in note and "Adam is used" in note for note in result.notes)


def test_imdb_lstm_takes_token_ids_and_says_how_its_counts_differ():
    result, report = _import(IMDB_LSTM)
    design = result.design
    [source] = _nodes(design, "Input")
    assert design.node(source).params == {"shape": (80,), "dtype": "long"}
    assert _counts(design, report, "Embedding") == [2_560_000]
    keras_lstm = 4 * 128 * (128 + 128 + 1)
    assert _counts(design, report, "LSTM") == [keras_lstm + 4 * 128]   # two bias vectors
    assert design.node(_nodes(design, "LSTM")[0]).params["output"] == "last"
    assert _nodes(design, "Sigmoid")   # a 0-1 score, trained as regression
    assert design.training["task"] == "regression"
    assert any("two bias vectors" in note for note in result.notes)
    assert any("dropout inside a recurrent layer" in note for note in result.notes)


def test_simple_rnn_returns_sequences_where_asked_and_takes_sgd_settings():
    result, report = _import(SIMPLE_RNN)
    design = result.design
    first, second = _nodes(design, "RNN")
    assert report.shape(first) == ("N", 10, 32) and report.shape(second) == ("N", 16)
    assert [report.params(first), report.params(second)] == [32 * (1 + 32 + 2),
                                                             16 * (32 + 16 + 2)]
    assert design.training["optimizer"] == {"name": "sgd", "lr": 0.05, "momentum": 0.9}
    assert design.training["task"] == "regression" and design.training["epochs"] == 20


def test_functional_api_with_two_inputs_merges_and_recurrent_layers():
    result, report = _import(FUNCTIONAL)
    design = result.design
    inputs = _nodes(design, "Input")
    assert [design.node(n).params for n in inputs] == [
        {"shape": (50,), "dtype": "long"}, {"shape": (8,), "dtype": "float"}]
    # Conv1D reads the embedded tokens channels first, the LSTM reads them channels last
    assert [design.node(n).params["dims"] for n in _nodes(design, "Permute")] == [
        (0, 2, 1), (0, 2, 1)]
    [conv] = _nodes(design, "Conv1d")
    assert design.node(conv).params["padding"] == 2 and report.shape(conv) == ("N", 16, 50)
    assert report.params(conv) == 5 * 32 * 16 + 16
    [lstm] = _nodes(design, "LSTM")
    assert design.node(lstm).params["bidirectional"] and report.shape(lstm) == ("N", 25, 48)
    [gru] = _nodes(design, "GRU")
    assert report.params(gru) == 3 * 12 * (48 + 12 + 2)   # Keras's reset_after GRU: equal
    [concat] = _nodes(design, "Concat")
    assert report.shape(concat) == ("N", 20)
    [batch_norm] = _nodes(design, "BatchNorm1d")
    assert design.node(batch_norm).params["momentum"] == pytest.approx(0.01)
    assert design.node(batch_norm).params["eps"] == pytest.approx(1e-3)
    assert design.find("scores")   # the Keras name is the node's name
    assert design.training["optimizer"] == {"name": "adam", "lr": 3e-4}


def test_functional_toy_resnet_adds_blocks_with_keras_counts():
    result, report = _import(TOY_RESNET)
    design = result.design
    assert report.total_params() == 223_242
    assert [report.shape(n) for n in _nodes(design, "Add")] == [("N", 64, 9, 9)] * 2
    [mean] = _nodes(design, "Mean")
    assert report.shape(mean) == ("N", 64)
    assert design.training["optimizer"] == {"name": "rmsprop", "lr": 1e-3, "momentum": 0.0}


def test_generator_reshape_is_laid_out_channels_first_and_same_padding_doubles():
    result, report = _import(GENERATOR)
    design = result.design
    [reshape] = _nodes(design, "Reshape")
    assert design.node(reshape).params["shape"] == (64, 7, 7)
    assert not _nodes(design, "Permute")
    first, second = _nodes(design, "ConvTranspose2d")
    assert report.shape(first) == ("N", 32, 14, 14) and report.shape(second) == ("N", 1, 28, 28)
    assert report.params(first) == 5 * 5 * 64 * 32   # use_bias=False
    [batch_norm] = _nodes(design, "BatchNorm1d")
    assert report.params(batch_norm) == 2 * 7 * 7 * 64
    assert design.node(_nodes(design, "LeakyReLU")[0]).params["negative_slope"] == 0.3
    assert any("channels first" in note for note in result.notes)


@pytest.mark.parametrize(("padding", "stride", "size", "expected"), [
    ("same", 1, 28, 28), ("same", 2, 28, 14), ("same", 2, 27, 14), ("valid", 2, 28, 13)])
def test_conv_and_pool_padding_give_keras_sizes(padding, stride, size, expected):
    snippet = f"""\
from keras import layers, Sequential
model = Sequential([
    layers.Conv2D(8, 3, strides={stride}, padding='{padding}', input_shape=({size}, {size}, 3)),
    layers.MaxPooling2D(3, strides={stride}, padding='{padding}'),
])
"""
    result, report = _import(snippet)
    [conv] = _nodes(result.design, "Conv2d")
    [pool] = _nodes(result.design, "MaxPool2d")
    assert report.shape(conv) == ("N", 8, expected, expected)
    pooled = -(-expected // stride) if padding == "same" else (expected - 3) // stride + 1
    assert report.shape(pool) == ("N", 8, pooled, pooled)


def test_every_unsupported_construct_is_one_refusal_with_its_line():
    snippet = """\
import tensorflow as tf
from tensorflow.keras import layers

inputs = tf.keras.Input(shape=(32, 32, 3))
x = layers.Rescaling(1.0 / 255)(inputs)
x = layers.Conv2D(16, 3, data_format='channels_first')(x)
x = layers.ConvLSTM2D(8, 3)(x)
x = tf.nn.relu(x)
x = layers.Dense(10, kernel_initializer='he_normal', activation='exponential')(x)
model = tf.keras.Model(inputs, x)
"""
    with pytest.raises(DesignError) as caught:
        import_keras_source(snippet, "tutorial.py")
    message = str(caught.value)
    assert "cannot import the Keras model model from tutorial.py" in message
    problems = caught.value.problems
    assert [p.split(":")[0] for p in problems] == ["line 6", "line 7", "line 8", "line 9"]
    assert "data_format='channels_first' is not read" in problems[0]
    assert "layers.ConvLSTM2D is not a Keras layer NeuralCanvas reads" in problems[1]
    assert "tf.nn.relu(x) is not a Keras layer applied to tensors" in problems[2]
    assert "activation='exponential' is not an activation NeuralCanvas reads" in problems[3]
    # preprocessing is left out with a note, not refused
    assert not any("Rescaling" in problem for problem in problems)


def test_input_shape_computed_at_run_time_is_refused_or_given():
    snippet = """\
from tensorflow import keras
model = keras.Sequential([keras.layers.Dense(10, input_shape=(x_train.shape[1],))])
"""
    with pytest.raises(DesignError, match=r"line 2: .*computed when the code runs"):
        import_keras_source(snippet)
    _, report = _import(snippet, input_shapes=[(13,)])
    assert report.total_params() == 13 * 10 + 10


def test_a_model_without_input_shape_asks_for_one():
    snippet = "import keras\nmodel = keras.Sequential([keras.layers.Flatten(), " \
              "keras.layers.Dense(10)])\n"
    with pytest.raises(DesignError, match="declares no input shape.*--input-shape"):
        import_keras_source(snippet)
    _, report = _import(snippet, input_shapes=[(28, 28)])
    assert report.total_params() == 28 * 28 * 10 + 10


def test_the_source_is_never_run_and_tensorflow_is_never_imported(tmp_path):
    marker = tmp_path / "ran"
    snippet = f"open({str(marker)!r}, 'w').close()\nimport os\n" + MLP
    _import(snippet)
    assert not marker.exists()
    assert "tensorflow" not in sys.modules and "keras" not in sys.modules


def test_keras_source_is_told_from_pytorch_source():
    assert is_keras_source(MLP) and is_keras_source(CNN)
    assert not is_keras_source("import torch\nclass Net(torch.nn.Module):\n    pass\n")
    assert not is_keras_source("this is not python (")


def test_cli_imports_keras_source_by_itself_and_with_the_flag(tmp_path, capsys):
    tutorial = tmp_path / "tutorial.py"
    tutorial.write_text(CNN)
    output = tmp_path / "cnn.ncnet"
    assert cli_main(["import", str(tutorial), "-o", str(output)]) == 0
    out = capsys.readouterr().out
    assert "imported the Keras model model (line 6)" in out and "channels first" in out
    assert check(load_design(str(output))).total_params() == 34_826
    named = tmp_path / "named.txt"
    named.write_text(SIMPLE_RNN)
    assert cli_main(["import", str(named), "--keras", "-o", str(tmp_path / "rnn.ncnet")]) == 0
    assert cli_main(["import", str(tutorial), "--keras", "--weights", "w.safetensors",
                     "-o", str(tmp_path / "x.ncnet")]) == 2
    assert "--weights needs a PyTorch module" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.usefixtures(single_thread.__name__)
@pytest.mark.parametrize("snippet", [MLP, CNN, IMDB_LSTM, SIMPLE_RNN, TOY_RESNET],
                         ids=["mlp", "cnn", "imdb_lstm", "simple_rnn", "toy_resnet"])
def test_imported_snippet_trains_a_short_epoch(snippet):
    design = import_keras_source(snippet).design
    events = []
    overrides = {"epochs": 1, "checkpoint_every": 0, "data.samples": 256, "batch_size": 32}
    final = Trainer(design, events.append, RunOptions(overrides=overrides)).run()
    assert final.kind == "finished", getattr(final, "reason", "")
    losses = [value for event in events if event.kind == "batch"
              for values in event.values.values() for value in values]
    assert losses and all(math.isfinite(v) for v in losses)

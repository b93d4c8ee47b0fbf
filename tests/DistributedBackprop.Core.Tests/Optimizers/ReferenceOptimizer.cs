using DistributedBackprop.Core.Optimizers;
using DistributedBackprop.Core.Parameters;

namespace DistributedBackprop.Core.Tests.Optimizers;

/// <summary>
/// The published update rules written out in double precision, one element at a time, independently of
/// the vectorized implementation: the oracle for the optimizer tests.
/// </summary>
internal sealed class ReferenceOptimizer
{
    private readonly OptimizerSettings _settings;
    private readonly ParameterLayout _layout;
    private readonly double[] _first;
    private readonly double[] _second;
    private readonly double[] _third;

    public ReferenceOptimizer(OptimizerSettings settings, ParameterLayout layout)
    {
        _settings = settings;
        _layout = layout;
        _first = new double[layout.Count];
        _second = new double[layout.Count];
        _third = new double[layout.Count];
    }

    /// <summary>One update of the whole vector; step is 1-based.</summary>
    public void Step(double[] parameters, double[] gradients, double learningRate, long step)
    {
        foreach (var segment in _layout.Segments)
        {
            for (int i = segment.Offset; i < segment.End; i++)
            {
                if (segment.Kind == ParameterKind.RunningStatistic)
                {
                    double rate = segment.Momentum;
                    parameters[i] = (1 - rate) * parameters[i] + rate * gradients[i];
                    continue;
                }

                double lambda = segment.Kind == ParameterKind.Weight ? _settings.WeightDecay : 0;
                parameters[i] = Update(i, parameters[i], gradients[i], lambda, learningRate, step);
            }
        }
    }

    private double Update(int i, double theta, double gradient, double lambda, double lr, long t)
    {
        double mu = _settings.Momentum;
        switch (_settings.Kind)
        {
            case OptimizerKind.Sgd:
                return theta - lr * (gradient + lambda * theta);

            case OptimizerKind.Momentum:
            case OptimizerKind.Nesterov:
            {
                double g = gradient + lambda * theta;
                _first[i] = t == 1 ? g : mu * _first[i] + g;
                double direction = _settings.Kind == OptimizerKind.Nesterov ? g + mu * _first[i] : _first[i];
                return theta - lr * direction;
            }

            case OptimizerKind.RmsProp:
            {
                double rho = _settings.Rho;
                double g = gradient + lambda * theta;
                _first[i] = rho * _first[i] + (1 - rho) * g * g;
                double variance = _first[i];
                if (_settings.Centered)
                {
                    _third[i] = rho * _third[i] + (1 - rho) * g;
                    variance -= _third[i] * _third[i];
                }

                double scaled = g / (Math.Sqrt(variance) + _settings.Epsilon);
                if (mu > 0)
                {
                    _second[i] = mu * _second[i] + scaled;
                    scaled = _second[i];
                }

                return theta - lr * scaled;
            }

            default:
            {
                // Adam (Kingma and Ba, Algorithm 1) and AdamW (Loshchilov and Hutter, Algorithm 2, with the
                // decay scaled by the learning rate as PyTorch does).
                bool decoupled = _settings.Kind == OptimizerKind.AdamW;
                double b1 = _settings.Beta1;
                double b2 = _settings.Beta2;
                double g = decoupled ? gradient : gradient + lambda * theta;
                _first[i] = b1 * _first[i] + (1 - b1) * g;
                _second[i] = b2 * _second[i] + (1 - b2) * g * g;
                double mHat = _first[i] / (1 - Math.Pow(b1, t));
                double vHat = _second[i] / (1 - Math.Pow(b2, t));
                double adamStep = lr * mHat / (Math.Sqrt(vHat) + _settings.Epsilon);
                double decay = decoupled ? lr * lambda * theta : 0;
                return theta - decay - adamStep;
            }
        }
    }
}

set terminal pngcairo size 800,520 enhanced font 'DejaVu Sans,10' noenhanced
set output "dci_informativeness_train-vs-learning_rate.png"
set title "dci.informativeness_train vs learning_rate (mean ± std over seeds)"
set xlabel "training.learning_rate"
set ylabel "dci.informativeness_train"
set grid
set key below
set offsets 0, graph 0.03, graph 0.05, 0
set yrange [0:*]
set xrange [0:*]
plot 'dci_informativeness_train-vs-learning_rate.0.dat' using 1:2:3 with yerrorlines lw 2 title "kind=ada-gvae batch_size=32", 'dci_informativeness_train-vs-learning_rate.1.dat' using 1:2:3 with yerrorlines lw 2 title "kind=ada-gvae batch_size=64", 'dci_informativeness_train-vs-learning_rate.2.dat' using 1:2:3 with yerrorlines lw 2 title "kind=ada-ml-vae batch_size=64", 'dci_informativeness_train-vs-learning_rate.3.dat' using 1:2:3 with yerrorlines lw 2 title "kind=annealed-vae batch_size=64", 'dci_informativeness_train-vs-learning_rate.4.dat' using 1:2:3 with yerrorlines lw 2 title "kind=beta-tcvae batch_size=64", 'dci_informativeness_train-vs-learning_rate.5.dat' using 1:2:3 with yerrorlines lw 2 title "kind=beta-vae batch_size=64", 'dci_informativeness_train-vs-learning_rate.6.dat' using 1:2:3 with yerrorlines lw 2 title "kind=dip-vae-1 batch_size=64", 'dci_informativeness_train-vs-learning_rate.7.dat' using 1:2:3 with yerrorlines lw 2 title "kind=dip-vae-2 batch_size=64", 'dci_informativeness_train-vs-learning_rate.8.dat' using 1:2:3 with yerrorlines lw 2 title "kind=factor-vae batch_size=64"
